package dev.sparklinear.spark;

import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * A partition that arrives as column batches (Spark's vectorized Parquet and ORC readers): a batch is split into
 * blocks of at most {@code blockRows} rows, whose features are taken from the batch in bulk, and whose passed-through
 * columns are not copied at all: the output rows are views over the input batch's own column vectors.
 *
 * <p>A block the bulk path cannot take as it is (a null, a vector of the wrong width, a column type without a bulk
 * reader, a NaN that a nan-guard refuses) is read row by row, which also applies the invalid-row policy.
 */
final class ColumnBatchSource implements PartitionRunner.Source {
  /** Values taken from a batch per call: well under G1's humongous-object size, whatever the heap. */
  private static final int CHUNK_VALUES = 32 * 1024;

  private final Iterator<ColumnarBatch> input;
  private final PartitionPlan plan;
  private final int[] ordinals;
  private final int kept;
  private final ColumnVector[] inputColumns;
  private final ColumnVector[] outputRowColumns;
  private final DataType bulkType;
  private final boolean bulkFloats;

  private ColumnarBatch inputView;
  private ColumnarBatch outputView;
  private int batchRows;
  private int nextRow;
  private float[] staging = new float[0];

  ColumnBatchSource(Iterator<ColumnarBatch> input, PartitionPlan plan, int[] ordinals,
      List<? extends ColumnVector> outputColumns) {
    this.input = input;
    this.plan = plan;
    this.ordinals = ordinals;
    this.kept = plan.keptSchema().size();
    this.inputColumns = new ColumnVector[ordinals.length];
    this.outputRowColumns = new ColumnVector[kept + outputColumns.size()];
    System.arraycopy(outputColumns.toArray(new ColumnVector[0]), 0, outputRowColumns, kept, outputColumns.size());
    this.bulkType = plan.reader().bulkElementType;
    this.bulkFloats = DataTypes.FloatType.equals(bulkType);
  }

  @Override
  public int nextBlock(PartitionRunner runner) {
    while (nextRow >= batchRows) {
      if (!input.hasNext()) {
        return 0;
      }
      open(input.next());
    }
    int start = nextRow;
    int count = Math.min(plan.blockRows(), batchRows - start);
    runner.startBlock(start);
    if (copyInBulk(runner, start, count)) {
      runner.readInBulk(count);
    } else {
      for (int r = 0; r < count; r++) {
        runner.read(inputView.getRow(start + r), r);
      }
    }
    nextRow = start + count;
    return count;
  }

  @Override
  public ColumnarBatch view() {
    return outputView;
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
  }

  /**
   * Copies the features of rows {@code [start, start + count)} with one bulk read when the column is an array of
   * floats or doubles whose rows are all present, of the right width and contiguous. False when it cannot.
   */
  private boolean copyInBulk(PartitionRunner runner, int start, int count) {
    if (bulkType == null || !(inputColumns[kept] instanceof WritableColumnVector column)) {
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
        runner.features().writeRows(r, rows, values.getFloats(offset, n), 0);
      } else {
        double[] doubles = values.getDoubles(offset, n);
        if (staging.length < n) {
          staging = new float[n];
        }
        for (int i = 0; i < n; i++) {
          staging[i] = (float) doubles[i];
        }
        runner.features().writeRows(r, rows, staging, 0);
      }
    }
    // A row holding NaN or infinity, when a nan-guard asks, needs the row-by-row path's invalid-rows policy.
    return !plan.reader().rejectNonFinite || FeatureReader.allFinite(runner.featureAddress(0), (long) count * width);
  }

  /** Nothing to free: the batches belong to the reader that made them. */
  @Override
  public void close() {}
}
