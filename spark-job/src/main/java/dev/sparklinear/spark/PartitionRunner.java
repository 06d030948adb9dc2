package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.hooks.NonFiniteValueException;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Module;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.rdd.InputFileBlockHolder;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Runs one partition: groups rows into blocks, copies each block's features into Arrow memory and its passed-through
 * columns into Arrow vectors, runs {@code module.call()} on the block, and hands out the output rows as views over
 * those vectors and the module's output block.
 *
 * <p>Everything is allocated once per partition from a named child allocator and reused block after block; the
 * runner closes it all when the input is exhausted, and the task-completion listener closes it when the task ends
 * early or fails. Rows it hands out are views that are valid until the next call to {@code next()}.
 */
final class PartitionRunner implements Iterator<InternalRow>, AutoCloseable {
  private final Iterator<InternalRow> input;
  private final Module module;
  private final BlockPlan plan;
  private final int partitionId;

  private final BufferAllocator allocator;
  private final FloatBlock features;
  private final VectorSchemaRoot keptRoot;
  private final ArrowWriter keptWriter;
  private final BlockColumns outputColumns;
  private final ColumnarBatch batch;

  private FloatBlock output;
  private Iterator<InternalRow> rows = java.util.Collections.emptyIterator();
  private long blockIndex;
  private long rowIndex;
  private boolean closed;

  PartitionRunner(Iterator<InternalRow> input, Module module, BlockPlan plan, int partitionId, long taskAttemptId) {
    this.input = input;
    this.module = module;
    this.plan = plan;
    this.partitionId = partitionId;
    this.allocator = ArrowUtils.rootAllocator()
        .newChildAllocator("spark-linear partition " + partitionId + " task " + taskAttemptId, 0, Long.MAX_VALUE);
    FloatBlock featureBlock = null;
    VectorSchemaRoot root = null;
    try {
      featureBlock = FloatBlock.allocate(allocator, plan.blockRows(), plan.inFeatures());
      root = VectorSchemaRoot.create(
          ArrowUtils.toArrowSchema(plan.keptSchema(), "UTC", true, false), allocator);
      this.keptWriter = ArrowWriter.create(root);
    } catch (RuntimeException | Error e) {
      if (featureBlock != null) {
        featureBlock.close();
      }
      if (root != null) {
        root.close();
      }
      allocator.close();
      throw e;
    }
    this.features = featureBlock;
    this.keptRoot = root;
    this.outputColumns = BlockColumns.of(plan.layout(), plan.outputColumn(), plan.outFeatures());
    List<ColumnVector> vectors = new ArrayList<>();
    root.getFieldVectors().forEach(v -> vectors.add(new ArrowColumnVector(v)));
    vectors.addAll(outputColumns.vectors());
    this.batch = new ColumnarBatch(vectors.toArray(new ColumnVector[0]));
  }

  /** Starts a runner for the current task and makes sure it is closed however the task ends. */
  static PartitionRunner start(Iterator<InternalRow> input, Module module, BlockPlan plan) {
    TaskContext task = TaskContext.get();
    int partition = task == null ? -1 : task.partitionId();
    long attempt = task == null ? -1 : task.taskAttemptId();
    PartitionRunner runner = new PartitionRunner(input, module, plan, partition, attempt);
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) context -> runner.close());
    }
    return runner;
  }

  @Override
  public boolean hasNext() {
    while (!rows.hasNext()) {
      releaseOutput();
      if (closed || !input.hasNext()) {
        close();
        return false;
      }
      runNextBlock();
    }
    return true;
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return rows.next();
  }

  private void runNextBlock() {
    keptWriter.reset();
    int in = plan.inFeatures();
    long address = features.buffer().memoryAddress();
    long rowBytes = plan.fixedRowBytes();
    long bytes = 0;
    int count = 0;
    long firstRow = rowIndex;
    while (count < plan.blockRows() && input.hasNext()) {
      InternalRow row = input.next();
      if (!plan.reader().read(row, address + (long) count * in * FloatBlock.BYTES, in)) {
        throw plan.rowError(row, rowIndex, partitionId, currentFile());
      }
      keptWriter.write(row);
      count++;
      rowIndex++;
      bytes += rowBytes + (row instanceof UnsafeRow unsafe ? unsafe.getSizeInBytes() : 0);
      if (bytes >= plan.maxBlockBytes()) {
        break;
      }
    }
    keptWriter.finish();
    CallContext context = CallContext.of(count, partitionId, blockIndex++, firstRow, allocator);
    try (FloatBlock x = FloatBlock.wrap(features.buffer(), count, in)) {
      output = module.call(x, context);
    } catch (NonFiniteValueException e) {
      throw e.withRowKey(describeKeptRow(e.rowInBlock()));
    }
    if (output.rows() != count || output.cols() != plan.outFeatures()) {
      String shape = output.rows() + "x" + output.cols();
      releaseOutput();
      throw new IllegalStateException(
          "Module " + module + " returned a " + shape + " block for a block of " + count + " rows; expected "
              + count + "x" + plan.outFeatures() + " (does a hook change the output width?)");
    }
    plan.count(count, count);
    outputColumns.show(output);
    batch.setNumRows(count);
    rows = batch.rowIterator();
  }

  /**
   * The first passed-through values of a row of the current block: how a user finds the row. (Not its file: the
   * block is read by now, and its rows may come from more than one file.)
   */
  private String describeKeptRow(int row) {
    List<String> parts = new ArrayList<>();
    for (org.apache.arrow.vector.FieldVector vector : keptRoot.getFieldVectors()) {
      if (parts.size() == 3 || row >= vector.getValueCount()) {
        break;
      }
      String text = String.valueOf(vector.getObject(row));
      parts.add(vector.getName() + "=" + (text.length() > 40 ? text.substring(0, 40) + "..." : text));
    }
    return parts.isEmpty() ? "" : "(" + String.join(", ", parts) + ")";
  }

  private static String currentFile() {
    String file = InputFileBlockHolder.getInputFilePath().toString();
    return file.isEmpty() ? null : file;
  }

  private void releaseOutput() {
    if (output != null) {
      output.close();
      output = null;
    }
  }

  /** Frees every buffer of the partition and closes its allocator; a leak makes the allocator throw. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    rows = java.util.Collections.emptyIterator();
    try {
      releaseOutput();
      features.close();
      keptRoot.close();
    } finally {
      allocator.close();
    }
  }

  StructType keptSchema() {
    return plan.keptSchema();
  }
}
