package dev.sparklinear.spark;

import dev.sparklinear.spark.parquet.FloatListReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.rdd.InputFileBlockHolder;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.Platform;

/**
 * A partition of a Parquet scan whose kept columns come from Spark's batches and whose {@code array<float>} feature
 * column is read, in lockstep, by a {@link FloatListReader} straight into the feature block.
 *
 * <p>Spark's file scan says which file split a batch comes from ({@link InputFileBlockHolder}, set on the task thread
 * as each file is opened); the reader of that split gives exactly the batch's rows, and must have given all of its rows
 * when the next split starts. A block with a row that is not clean (a null list or element, another width, or a
 * non-finite value a nan-guard refuses) has its features put into a Spark array column next to the kept ones and is
 * read row by row, so the invalid-row policy sees what it sees on Spark's path.
 */
final class ParquetFeatureSource implements PartitionRunner.Source {
  private final Iterator<ColumnarBatch> input;
  private final PartitionPlan plan;
  private final int[] keptOrdinals;
  private final int kept;
  private final int width;
  private final Configuration conf;
  private final String column;
  private final ColumnVector[] inputColumns;
  private final ColumnVector[] outputRowColumns;

  private FloatListReader reader;
  private String splitPath;
  private long splitStart = -1;
  private long splitLength = -1;
  /** The features of a block read row by row, as Spark would have given them; made when first needed. */
  private OnHeapColumnVector features;
  private int featuresCapacity;
  private ColumnarBatch inputView;
  private ColumnarBatch outputView;
  private int batchRows;
  private int nextRow;
  private float[] row;

  ParquetFeatureSource(Iterator<ColumnarBatch> input, PartitionPlan plan, int[] keptOrdinals, String column,
      Configuration conf, List<? extends ColumnVector> outputColumns) {
    this.input = input;
    this.plan = plan;
    this.keptOrdinals = keptOrdinals;
    this.kept = keptOrdinals.length;
    this.width = plan.inFeatures();
    this.column = column;
    this.conf = conf;
    this.inputColumns = new ColumnVector[kept + 1];
    this.outputRowColumns = new ColumnVector[kept + outputColumns.size()];
    System.arraycopy(outputColumns.toArray(new ColumnVector[0]), 0, outputRowColumns, kept, outputColumns.size());
    this.row = new float[width];
  }

  @Override
  public int nextBlock(PartitionRunner runner) {
    while (nextRow >= batchRows) {
      if (!input.hasNext()) {
        finishSplit();
        return 0;
      }
      open(input.next());
    }
    int start = nextRow;
    int count = Math.min(plan.blockRows(), batchRows - start);
    runner.startBlock(start);
    boolean clean;
    try {
      clean = reader.readRows(count, runner.featureAddress(0));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read column '" + column + "' of " + splitPath, e);
    }
    if (clean && (!plan.reader().rejectNonFinite
        || FeatureReader.allFinite(runner.featureAddress(0), (long) count * width))) {
      runner.readInBulk(count);
    } else {
      materialize(runner, start, count);
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
    String path = InputFileBlockHolder.getInputFilePath().toString();
    long start = InputFileBlockHolder.getStartOffset();
    long length = InputFileBlockHolder.getLength();
    if (reader == null || !path.equals(splitPath) || start != splitStart || length != splitLength) {
      finishSplit();
      splitPath = path;
      splitStart = start;
      splitLength = length;
      try {
        reader = FloatListReader.open(conf, SparkPath.fromUrlString(path).toPath(), start, length, column, width);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot open column '" + column + "' of " + path, e);
      }
    }
    batchRows = batch.numRows();
    for (int i = 0; i < kept; i++) {
      inputColumns[i] = batch.column(keptOrdinals[i]);
    }
    if (features != null && featuresCapacity < batchRows) {
      features.close();
      features = null;
    }
    inputColumns[kept] = features;
    System.arraycopy(inputColumns, 0, outputRowColumns, 0, kept);
    inputView = new ColumnarBatch(inputColumns.clone(), batchRows);
    outputView = new ColumnarBatch(outputRowColumns.clone(), batchRows);
    nextRow = 0;
  }

  /**
   * Checks that the split's reader gave every row it has, then closes it. Spark and the reader choose the split's
   * row groups by the same rule, so a difference is a bug: better a failed task than rows paired with the wrong
   * features.
   */
  private void finishSplit() {
    if (reader == null) {
      return;
    }
    long read = reader.rowsRead();
    long total = reader.totalRows();
    closeReader();
    if (read != total) {
      throw new IllegalStateException("Spark's scan gave " + read + " rows of split " + splitPath + " ["
          + splitStart + ", +" + splitLength + "), whose column '" + column + "' holds " + total + " rows; set"
          + " input.parquet-reader: spark to read the features with Spark's reader, and report this");
    }
  }

  /**
   * Puts the features of rows {@code [start, start + count)} of the batch into {@link #features}, as Spark's reader
   * would: clean rows from the feature block, the others (nulls included) from the reader.
   */
  private void materialize(PartitionRunner runner, int start, int count) {
    if (features == null) {
      featuresCapacity = Math.max(batchRows, plan.blockRows());
      features = new OnHeapColumnVector(featuresCapacity, new ArrayType(DataTypes.FloatType, true));
      inputColumns[kept] = features;
      inputView = new ColumnarBatch(inputColumns.clone(), batchRows);
    }
    features.reset();
    WritableColumnVector values = features.arrayData();
    int elements = 0;
    int next = 0;
    int unclean = reader.uncleanRows();
    for (int r = 0; r < count; r++) {
      int u = next < unclean && reader.uncleanRow(next) == r ? next++ : -1;
      int length = u < 0 ? width : reader.uncleanLength(u);
      if (length < 0) {
        features.putNull(start + r);
        continue;
      }
      values.reserve(elements + length);
      features.putNotNull(start + r);
      features.putArray(start + r, elements, length);
      if (u < 0) {
        Platform.copyMemory(null, runner.featureAddress(r), row, Platform.FLOAT_ARRAY_OFFSET, 4L * width);
        values.putFloats(elements, width, row, 0);
      } else {
        for (int e = 0; e < length; e++) {
          if (reader.uncleanIsNull(u, e)) {
            values.putNull(elements + e);
          } else {
            values.putFloat(elements + e, reader.uncleanValue(u, e));
          }
        }
      }
      elements += length;
    }
  }

  private void closeReader() {
    if (reader != null) {
      try {
        reader.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot close " + splitPath, e);
      } finally {
        reader = null;
      }
    }
  }

  @Override
  public void close() {
    try {
      closeReader();
    } finally {
      if (features != null) {
        features.close();
        features = null;
      }
    }
  }
}
