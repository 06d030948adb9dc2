package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.rdd.InputFileBlockHolder;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * Runs one partition that arrives as rows: groups rows into blocks, copies each block's features into Arrow memory
 * and its passed-through columns into Arrow vectors, runs {@code module.call()} on the block, and hands out the output
 * rows as views over those vectors and the module's output block.
 *
 * <p>Everything is allocated once per partition and reused block after block. Rows it hands out are views, valid
 * until the next call to {@code next()}.
 */
final class PartitionRunner implements Iterator<InternalRow>, AutoCloseable {
  private final Iterator<InternalRow> input;
  private final BlockPlan plan;
  private final BlockCall call;
  private final VectorSchemaRoot keptRoot;
  private final ArrowWriter keptWriter;
  private final BlockColumns outputColumns;
  private final ColumnarBatch batch;

  /** Per output row of the block, the block row it shows, or -1 for a null output. */
  private final int[] blockRowOf;
  private Iterator<InternalRow> rows = Collections.emptyIterator();
  private long rowIndex;
  private boolean closed;

  private PartitionRunner(Iterator<InternalRow> input, Module module, BlockPlan plan) {
    this.input = input;
    this.plan = plan;
    this.call = BlockCall.forCurrentTask(module, plan, this);
    VectorSchemaRoot root = null;
    try {
      root = VectorSchemaRoot.create(
          ArrowUtils.toArrowSchema(plan.keptSchema(), "UTC", true, false), call.allocator());
      this.keptWriter = ArrowWriter.create(root);
    } catch (RuntimeException | Error e) {
      if (root != null) {
        root.close();
      }
      call.close();
      throw e;
    }
    this.keptRoot = root;
    this.outputColumns = BlockColumns.of(plan.layout(), plan.outputColumn(), plan.outFeatures(),
        plan.invalidRows() == InvalidRowPolicy.NULL);
    this.blockRowOf = new int[plan.blockRows()];
    List<ColumnVector> vectors = new ArrayList<>();
    keptRoot.getFieldVectors().forEach(v -> vectors.add(new ArrowColumnVector(v)));
    vectors.addAll(outputColumns.vectors());
    this.batch = new ColumnarBatch(vectors.toArray(new ColumnVector[0]));
  }

  /** Starts a runner for the current task; it is closed however the task ends. */
  static PartitionRunner start(Iterator<InternalRow> input, Module module, BlockPlan plan) {
    return new PartitionRunner(input, module, plan);
  }

  @Override
  public boolean hasNext() {
    while (!rows.hasNext()) {
      call.releaseOutput();
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
    long rowBytes = plan.fixedRowBytes();
    long bytes = 0;
    int count = 0;
    int valid = 0;
    boolean anyNull = false;
    long firstRow = rowIndex;
    while (count < plan.blockRows() && input.hasNext()) {
      InternalRow row = input.next();
      long index = rowIndex++;
      if (plan.reader().readChecked(row, call.featureAddress(valid), plan.inFeatures())) {
        blockRowOf[count] = valid++;
      } else if (plan.keepInvalid(row, index, call.partitionId(), currentFile())) {
        blockRowOf[count] = -1;
        anyNull = true;
      } else {
        continue;
      }
      keptWriter.write(row);
      count++;
      bytes += rowBytes + (row instanceof UnsafeRow unsafe ? unsafe.getSizeInBytes() : 0);
      if (bytes >= plan.maxBlockBytes()) {
        break;
      }
    }
    keptWriter.finish();
    int rowsInBlock = count;
    outputColumns.show(call.run(valid, firstRow, r -> describeKeptRow(outputRowOf(r, rowsInBlock))),
        anyNull ? blockRowOf : null, 0);
    plan.count((int) (rowIndex - firstRow), count);
    batch.setNumRows(count);
    rows = batch.rowIterator();
  }

  /** The output row showing block row {@code blockRow} (rows with a null output take no block row). */
  private int outputRowOf(int blockRow, int count) {
    for (int i = 0; i < count; i++) {
      if (blockRowOf[i] == blockRow) {
        return i;
      }
    }
    return blockRow;
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

  static String currentFile() {
    String file = InputFileBlockHolder.getInputFilePath().toString();
    return file.isEmpty() ? null : file;
  }

  /** Frees every buffer of the partition and closes its allocator. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    rows = Collections.emptyIterator();
    try {
      // Null when the constructor failed; the task-completion listener may still call this.
      if (keptRoot != null) {
        keptRoot.close();
      }
    } finally {
      call.close();
    }
  }
}
