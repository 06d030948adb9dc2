package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * Runs one partition that arrives as columnar batches (Spark's vectorized Parquet and ORC readers): the features of a
 * block are taken from the batch in bulk, and the passed-through columns are not copied at all — the output rows are
 * views over the input batch's own column vectors and the module's output block.
 *
 * <p>A batch is split into blocks of at most {@code blockRows} rows. Any batch the bulk path cannot take as it is (a
 * null, a vector of the wrong width, a column type without a bulk reader) goes through the row readers for that
 * block, which also give the precise error.
 */
final class BatchPartitionRunner implements Iterator<InternalRow>, AutoCloseable {
  private final Iterator<ColumnarBatch> input;
  private final BlockPlan plan;
  private final int[] ordinals;
  private final BlockCall call;
  private final BlockColumns outputColumns;
  private final int kept;
  private final ColumnVector[] inputColumns;
  private final ColumnVector[] outputRowColumns;
  private final boolean bulkFloats;
  private final boolean bulkDoubles;

  private ColumnarBatch inputView;
  private ColumnarBatch outputView;
  private int batchRows;
  private int nextRow;
  private int blockEnd;
  private long rowIndex;
  private float[] staging = new float[0];
  /** Per batch row id, its block row, {@link #NULL_OUTPUT} or {@link #DROPPED}; null while every row is valid. */
  private int[] blockRowOf = new int[0];
  private boolean mapped;

  /** Values taken from a batch per call: well under G1's humongous-object size, whatever the heap. */
  private static final int CHUNK_VALUES = 32 * 1024;

  private static final int NULL_OUTPUT = -1;
  private static final int DROPPED = -2;
  private boolean closed;

  private BatchPartitionRunner(Iterator<ColumnarBatch> input, Module module, BlockPlan plan, int[] ordinals) {
    this.input = input;
    this.plan = plan;
    this.ordinals = ordinals;
    this.kept = plan.keptSchema().size();
    this.inputColumns = new ColumnVector[ordinals.length];
    this.outputColumns = BlockColumns.of(plan.layout(), plan.outputColumn(), plan.outFeatures(),
        plan.invalidRows() == InvalidRowPolicy.NULL);
    List<? extends ColumnVector> outputs = outputColumns.vectors();
    this.outputRowColumns = new ColumnVector[kept + outputs.size()];
    for (int i = 0; i < outputs.size(); i++) {
      outputRowColumns[kept + i] = outputs.get(i);
    }
    boolean single = ordinals.length == kept + 1;
    boolean floats = false;
    boolean doubles = false;
    if (single && plan.featureType() instanceof ArrayType array) {
      floats = array.elementType() instanceof FloatType;
      doubles = array.elementType() instanceof DoubleType;
    }
    this.bulkFloats = floats;
    this.bulkDoubles = doubles;
    this.call = BlockCall.forCurrentTask(module, plan, this);
  }

  static BatchPartitionRunner start(Iterator<ColumnarBatch> input, Module module, BlockPlan plan, int[] ordinals) {
    return new BatchPartitionRunner(input, module, plan, ordinals);
  }

  @Override
  public boolean hasNext() {
    while (mapped && nextRow < blockEnd && blockRowOf[nextRow] == DROPPED) {
      nextRow++;
    }
    while (nextRow >= blockEnd) {
      if (closed) {
        return false;
      }
      if (nextRow < batchRows) {
        runBlock(nextRow);
        while (mapped && nextRow < blockEnd && blockRowOf[nextRow] == DROPPED) {
          nextRow++;
        }
        continue;
      }
      call.releaseOutput();
      if (!input.hasNext()) {
        close();
        return false;
      }
      open(input.next());
    }
    return true;
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return outputView.getRow(nextRow++);
  }

  private void open(ColumnarBatch batch) {
    batchRows = batch.numRows();
    for (int i = 0; i < ordinals.length; i++) {
      inputColumns[i] = batch.column(ordinals[i]);
    }
    System.arraycopy(inputColumns, 0, outputRowColumns, 0, kept);
    inputView = new ColumnarBatch(inputColumns.clone(), batchRows);
    outputView = new ColumnarBatch(outputRowColumns.clone(), batchRows);
    nextRow = 0;
    blockEnd = 0;
  }

  private void runBlock(int start) {
    int count = Math.min(plan.blockRows(), batchRows - start);
    mapped = false;
    int valid = count;
    int written = count;
    if (!copyInBulk(start, count)) {
      valid = copyRowByRow(start, count);
      written = 0;
      for (int r = start; r < start + count; r++) {
        written += blockRowOf[r] == DROPPED ? 0 : 1;
      }
    }
    long firstRow = rowIndex;
    outputColumns.show(call.run(valid, firstRow, r -> plan.describeKey(inputView.getRow(batchRowOf(r, start,
        count))).trim()), mapped ? blockRowOf : null, start);
    plan.count(count, written);
    rowIndex += count;
    blockEnd = start + count;
  }

  /** The batch row whose features are block row {@code blockRow}. */
  private int batchRowOf(int blockRow, int start, int count) {
    if (!mapped) {
      return start + blockRow;
    }
    for (int r = start; r < start + count; r++) {
      if (blockRowOf[r] == blockRow) {
        return r;
      }
    }
    return start + blockRow;
  }

  /**
   * Copies the features of rows {@code [start, start + count)} with one bulk read when the column is an array of
   * floats or doubles whose rows are all present, of the right width and contiguous. False when it cannot.
   */
  private boolean copyInBulk(int start, int count) {
    if (!(bulkFloats || bulkDoubles) || !(inputColumns[kept] instanceof WritableColumnVector column)) {
      return false;
    }
    int width = plan.inFeatures();
    WritableColumnVector values = column.arrayData();
    if (values.hasNull()) {
      return false;
    }
    boolean mayHaveNulls = column.hasNull();
    int first = column.getArrayOffset(start);
    for (int r = 0; r < count; r++) {
      int row = start + r;
      if ((mayHaveNulls && column.isNullAt(row)) || column.getArrayLength(row) != width
          || column.getArrayOffset(row) != first + r * width) {
        return false;
      }
    }
    // In chunks: Spark hands the values over as a new array per call, and a whole block's (4096 rows x 256 floats is
    // 4 MiB) is a humongous object to the G1 collector, each one a collection of its own.
    int rowsPerChunk = Math.max(1, CHUNK_VALUES / width);
    for (int r = 0; r < count; r += rowsPerChunk) {
      int rows = Math.min(rowsPerChunk, count - r);
      int offset = first + r * width;
      int n = rows * width;
      if (bulkFloats) {
        call.features().writeRows(r, rows, values.getFloats(offset, n), 0);
      } else {
        double[] doubles = values.getDoubles(offset, n);
        if (staging.length < n) {
          staging = new float[n];
        }
        for (int i = 0; i < n; i++) {
          staging[i] = (float) doubles[i];
        }
        call.features().writeRows(r, rows, staging, 0);
      }
    }
    // A row holding NaN or infinity, when a nan-guard asks, needs the row-by-row path's invalid-rows policy.
    return !plan.reader().rejectNonFinite || FeatureReader.allFinite(call.featureAddress(0), count * width);
  }

  /**
   * Copies the features of the valid rows of {@code [start, start + count)} one row at a time, applying the
   * invalid-rows policy to the others, and records which block row each batch row shows. Returns the valid rows.
   */
  private int copyRowByRow(int start, int count) {
    if (blockRowOf.length < batchRows) {
      blockRowOf = new int[batchRows];
    }
    mapped = true;
    int valid = 0;
    for (int r = 0; r < count; r++) {
      InternalRow row = inputView.getRow(start + r);
      if (plan.reader().readChecked(row, call.featureAddress(valid), plan.inFeatures())) {
        blockRowOf[start + r] = valid++;
      } else if (plan.keepInvalid(row, rowIndex + r, call.partitionId(), PartitionRunner.currentFile())) {
        blockRowOf[start + r] = NULL_OUTPUT;
      } else {
        blockRowOf[start + r] = DROPPED;
      }
    }
    return valid;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    batchRows = 0;
    nextRow = 0;
    blockEnd = 0;
    call.close();
  }
}
