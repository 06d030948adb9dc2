package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.loss.CrossEntropyLoss;
import dev.sparklinear.core.loss.Loss;
import dev.sparklinear.core.loss.LossSum;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.GradientSums;
import dev.sparklinear.core.nn.GradientTape;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ModuleArchitecture;
import dev.sparklinear.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.util.ArrowUtils;

/**
 * One epoch of a fit on one partition: forward and backward passes over the partition's cached blocks, with the
 * core kernels, giving the partition's {@link GradientSum}. Each block's backward pass adds its parameter gradients
 * straight into the partition's float64 sums ({@link GradientSums}), in block order, so that nothing is rounded to
 * float32 before the driver's division: the blocks' boundaries, which depend on the partitioning, then change only
 * the order of float64 additions. The loss is summed by the loss in double. The gradient of the sum, not of the mean,
 * is what each partition gives: the driver divides the sum of all partitions by the total count once.
 *
 * <p>The module arrives as the epoch's broadcast, which the tasks of an executor share; each task computes on a copy of
 * its own (rebuilt from the module's architecture and state dict), so that concurrent tasks never share the
 * gradients they accumulate. Arrow memory comes from a named child allocator that is closed
 * however the task ends.
 */
final class PartitionGradient {
  private PartitionGradient() {}

  /** The gradient sum of {@code blocks} for {@code shared}, the epoch's broadcast module (which is not changed). */
  static GradientSum of(Iterator<TrainingBlock> blocks, Module shared, Loss<?> loss, int inFeatures,
      int outFeatures) {
    Module module = privateCopy(shared);
    List<Parameter> parameters = new ArrayList<>(module.namedParameters().values());
    GradientSums gradients = new GradientSums();
    TaskContext task = TaskContext.get();
    String name = "spark-linear fit partition " + (task == null ? -1 : task.partitionId()) + " task "
        + (task == null ? -1 : task.taskAttemptId());
    long rows = 0;
    LossSum total = LossSum.ZERO;
    try (BufferAllocator allocator = ArrowUtils.rootAllocator().newChildAllocator(name, 0, Long.MAX_VALUE)) {
      while (blocks.hasNext()) {
        TrainingBlock block = blocks.next();
        if (block.rows() == 0) {
          continue;
        }
        total = total.plus(step(module, block, loss, inFeatures, outFeatures, gradients, allocator));
        rows += block.rows();
      }
    }
    double[][] sums = new double[parameters.size()][];
    for (int i = 0; i < sums.length; i++) {
      double[] sum = gradients.sum(parameters.get(i));
      sums[i] = sum != null ? sum : new double[parameters.get(i).numel()];
    }
    return new GradientSum(rows, total.sum(), total.totalWeight(), sums);
  }

  /** The forward and backward pass of one block, adding the block's parameter gradients into {@code gradients}. */
  @SuppressWarnings("unchecked")
  private static LossSum step(Module module, TrainingBlock block, Loss<?> loss, int inFeatures, int outFeatures,
      GradientSums gradients, BufferAllocator allocator) {
    int rows = block.rows();
    try (FloatBlock x = FloatBlock.copyOf(allocator, block.features(), rows, inFeatures);
        GradientTape tape = new GradientTape(allocator, gradients);
        FloatBlock y = module.call(x, CallContext.of(x).withTape(tape));
        FloatBlock dy = FloatBlock.allocate(allocator, rows, outFeatures)) {
      LossSum sum;
      if (loss instanceof CrossEntropyLoss crossEntropy) {
        sum = crossEntropy.sumAndGradient(y, block.classes(), 1, dy);
      } else {
        try (FloatBlock target = FloatBlock.copyOf(allocator, block.targets(), rows, outFeatures)) {
          sum = ((Loss<FloatBlock>) loss).sumAndGradient(y, target, 1, dy);
        }
      }
      tape.backward(y, dy);
      return sum;
    }
  }

  /**
   * A copy of {@code shared} for this task alone: the same tree, built from its architecture, with its parameters and
   * buffers loaded. Tasks of an executor share the broadcast value; each accumulates gradients into its own copy.
   */
  private static Module privateCopy(Module shared) {
    Module copy = ModuleArchitecture.fromJson(ModuleArchitecture.toJson(shared));
    copy.loadStateDict(shared.stateDict(), true);
    return copy;
  }
}
