package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.hooks.NonFiniteValueException;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Module;
import java.util.function.IntFunction;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.util.TaskCompletionListener;

/**
 * What a partition holds while it runs: a named child allocator, one feature block reused for every block of the
 * partition, and the module's output for the current block. Closing it frees all of that; it is closed by its runner
 * when the input ends and by a task-completion listener however the task ends.
 */
final class PartitionScope implements AutoCloseable {
  private final Module module;
  private final PartitionPlan plan;
  private final int partitionId;
  private final BufferAllocator allocator;
  private final FloatBlock features;
  private final long featuresAddress;
  private FloatBlock output;
  private long blockIndex;
  private boolean closed;

  private PartitionScope(Module module, PartitionPlan plan, int partitionId, long taskAttemptId) {
    this.module = module;
    this.plan = plan;
    this.partitionId = partitionId;
    this.allocator = ArrowUtils.rootAllocator()
        .newChildAllocator("spark-linear partition " + partitionId + " task " + taskAttemptId, 0, Long.MAX_VALUE);
    try {
      this.features = FloatBlock.allocate(allocator, plan.blockRows(), plan.inFeatures());
    } catch (RuntimeException | Error e) {
      allocator.close();
      throw e;
    }
    this.featuresAddress = features.buffer().memoryAddress();
  }

  /** The scope of the current task, whose {@code runner} a task-completion listener closes however the task ends. */
  static PartitionScope forCurrentTask(Module module, PartitionPlan plan, AutoCloseable runner) {
    TaskContext task = TaskContext.get();
    PartitionScope scope = new PartitionScope(module, plan, task == null ? -1 : task.partitionId(),
        task == null ? -1 : task.taskAttemptId());
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) context -> {
        try {
          runner.close();
        } catch (Exception e) {
          throw new IllegalStateException("Cannot release the memory of partition " + scope.partitionId, e);
        }
      });
    }
    return scope;
  }

  int partitionId() {
    return partitionId;
  }

  /** Where row {@code row} of the next block's features goes. */
  long featureAddress(int row) {
    return featuresAddress + (long) row * plan.inFeatures() * FloatBlock.BYTES;
  }

  /** The feature block's values as a float buffer view, for bulk copies of whole blocks. */
  FloatBlock features() {
    return features;
  }

  /**
   * Runs the module on the first {@code rows} rows of the feature block, whose first row is row {@code firstRow} of
   * the partition. The output is valid until the next call or {@link #close()}. A nan-guard failure is given the
   * offending row's key by {@code rowKey} (row index within the block to a description).
   */
  FloatBlock run(int rows, long firstRow, IntFunction<String> rowKey) {
    releaseOutput();
    CallContext context = CallContext.of(rows, partitionId, blockIndex++, firstRow, allocator);
    try (FloatBlock x = FloatBlock.wrap(features.buffer(), rows, plan.inFeatures())) {
      output = module.call(x, context);
    } catch (NonFiniteValueException e) {
      throw e.withRowKey(rowKey.apply(e.rowInBlock()));
    }
    if (output.rows() != rows || output.cols() != plan.outFeatures()) {
      String shape = output.rows() + "x" + output.cols();
      releaseOutput();
      throw new IllegalStateException("Module " + plan.moduleRepr() + " returned a " + shape + " block for a block of "
          + rows + " rows; expected " + rows + "x" + plan.outFeatures() + " (does a hook change the output width?)");
    }
    return output;
  }

  void releaseOutput() {
    if (output != null) {
      output.close();
      output = null;
    }
  }

  /** Frees every buffer and closes the allocator; a leak makes the allocator throw. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      releaseOutput();
      features.close();
    } finally {
      allocator.close();
    }
  }

  BufferAllocator allocator() {
    return allocator;
  }
}
