package dev.sparklinear.spark;

import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Job-wide counts gathered on the executors with Spark accumulators: rows read, rows written, blocks run, and the
 * partitions each kernel ran. Counts from a retried task are counted once by Spark (accumulators updated in actions
 * are applied once per task).
 */
public final class BlockCounters implements Serializable {
  private static final long serialVersionUID = 1L;

  private final LongAccumulator rowsIn;
  private final LongAccumulator rowsOut;
  private final LongAccumulator blocks;
  /** Invalid rows by reason, in the order of {@link FeatureReader.Problem}. */
  private final LongAccumulator[] invalid;
  /** Partitions by the kernel that ran them, in the order of {@link LinearKernels#kernelNames()}. */
  private final LongAccumulator[] kernels;

  /** Registers fresh accumulators with {@code context}. */
  public static BlockCounters register(SparkContext context) {
    return new BlockCounters(context);
  }

  private BlockCounters(SparkContext context) {
    rowsIn = context.longAccumulator("spark-linear rows in");
    rowsOut = context.longAccumulator("spark-linear rows out");
    blocks = context.longAccumulator("spark-linear blocks");
    invalid = Arrays.stream(FeatureReader.Problem.values())
        .map(problem -> context.longAccumulator("spark-linear invalid rows: " + problem.configValue()))
        .toArray(LongAccumulator[]::new);
    kernels = LinearKernels.kernelNames().stream()
        .map(name -> context.longAccumulator("spark-linear partitions on the " + name + " kernel"))
        .toArray(LongAccumulator[]::new);
  }

  /**
   * Counts a partition under each kernel the Linear layers of its module compute with in this JVM. The kernel depends
   * on each executor's JVM flags ({@code --add-modules jdk.incubator.vector}), which the driver cannot see.
   */
  void addPartition(Module module) {
    module.modules().stream().filter(Linear.class::isInstance).map(linear -> ((Linear) linear).kernelName())
        .distinct().mapToInt(LinearKernels.kernelNames()::indexOf).filter(index -> index >= 0)
        .forEach(index -> kernels[index].add(1));
  }

  /**
   * Partitions by the kernel that ran them ({@code vector}, {@code scalar}, {@code compensated}); kernels that ran none
   * are left out.
   */
  public Map<String, Long> partitionsByKernel() {
    Map<String, Long> out = new LinkedHashMap<>();
    List<String> names = LinearKernels.kernelNames();
    for (int i = 0; i < kernels.length; i++) {
      if (kernels[i].value() > 0) {
        out.put(names.get(i), kernels[i].value());
      }
    }
    return out;
  }

  void addInvalid(FeatureReader.Problem problem) {
    invalid[problem.ordinal()].add(1);
  }

  /** Invalid rows by reason ({@code null-vector}, {@code wrong-width}, ...), every reason listed. */
  public Map<String, Long> invalidRows() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (FeatureReader.Problem problem : FeatureReader.Problem.values()) {
      out.put(problem.configValue(), invalid[problem.ordinal()].value());
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
