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
  /** Invalid rows by reason, in the order of {@link FeatureReader.Problem}. */
  private final LongAccumulator[] invalid;

  private BlockCounters(LongAccumulator rowsIn, LongAccumulator rowsOut, LongAccumulator blocks,
      LongAccumulator[] invalid) {
    this.rowsIn = rowsIn;
    this.rowsOut = rowsOut;
    this.blocks = blocks;
    this.invalid = invalid;
  }

  /** Registers fresh accumulators with {@code context}. */
  public static BlockCounters register(SparkContext context) {
    FeatureReader.Problem[] problems = FeatureReader.Problem.values();
    LongAccumulator[] invalid = new LongAccumulator[problems.length];
    for (int i = 0; i < problems.length; i++) {
      invalid[i] = context.longAccumulator("spark-linear invalid rows: " + problems[i].reason);
    }
    return new BlockCounters(
        context.longAccumulator("spark-linear rows in"),
        context.longAccumulator("spark-linear rows out"),
        context.longAccumulator("spark-linear blocks"),
        invalid);
  }

  void addInvalid(FeatureReader.Problem problem) {
    invalid[problem.ordinal()].add(1);
  }

  /** Invalid rows by reason ({@code null-vector}, {@code wrong-width}, ...), every reason listed. */
  public java.util.Map<String, Long> invalidRows() {
    java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
    for (FeatureReader.Problem problem : FeatureReader.Problem.values()) {
      out.put(problem.reason, invalid[problem.ordinal()].value());
    }
    return out;
  }

  /** All invalid rows, whatever the reason. */
  public long invalidRowsTotal() {
    return invalidRows().values().stream().mapToLong(Long::longValue).sum();
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
