package dev.sparklinear.spark;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Job-wide counts gathered on the executors with Spark accumulators: rows read, rows written and blocks run. Counts
 * from a retried task are counted once by Spark (accumulators updated in actions are applied once per task).
 */
public final class BlockCounters implements Serializable {
  private static final long serialVersionUID = 1L;

  private final LongAccumulator rowsIn;
  private final LongAccumulator rowsOut;
  private final LongAccumulator blocks;

  private BlockCounters(LongAccumulator rowsIn, LongAccumulator rowsOut, LongAccumulator blocks) {
    this.rowsIn = rowsIn;
    this.rowsOut = rowsOut;
    this.blocks = blocks;
  }

  /** Registers fresh accumulators with {@code context}. */
  public static BlockCounters register(SparkContext context) {
    return new BlockCounters(
        context.longAccumulator("spark-linear rows in"),
        context.longAccumulator("spark-linear rows out"),
        context.longAccumulator("spark-linear blocks"));
  }

  void addBlock(int rowsRead, int rowsWritten) {
    rowsIn.add(rowsRead);
    rowsOut.add(rowsWritten);
    blocks.add(1);
  }

  public long rowsIn() {
    return rowsIn.value();
  }

  public long rowsOut() {
    return rowsOut.value();
  }

  public long blocks() {
    return blocks.value();
  }
}
