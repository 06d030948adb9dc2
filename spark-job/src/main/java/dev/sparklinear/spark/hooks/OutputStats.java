package dev.sparklinear.spark.hooks;

import dev.sparklinear.core.block.FloatBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.util.AccumulatorV2;

/**
 * A Spark accumulator of per-dimension statistics of float blocks: for each column, the count, NaN count, sum, least
 * and greatest value and a fixed-bin histogram (see {@link DimensionStats}). Blocks are added whole ({@link #add}
 * scans a block once); task copies are merged on the driver by Spark.
 *
 * <p>Not thread-safe, as accumulators are not: each task adds into its own copy (see {@link StatsHook}).
 */
public final class OutputStats extends AccumulatorV2<FloatBlock, List<DimensionStats>> {
  private static final long serialVersionUID = 1L;

  /** About this many floats are copied to the heap at a time. */
  private static final int CHUNK_VALUES = 16 * 1024;

  private final int dims;
  private final int bins;
  private final double histogramMin;
  private final double histogramMax;

  /** Rows added: every dimension has one value per row. */
  private long rows;
  private final long[] nanCount;
  private final double[] sum;
  private final double[] min;
  private final double[] max;
  /** {@code dims x bins}, row-major. */
  private final long[] histogram;
  private final long[] underflow;
  private final long[] overflow;

  /**
   * @param dims the number of columns of the blocks added
   * @param bins the number of histogram bins, at least 1
   * @param histogramMin the lower edge of the first bin
   * @param histogramMax the upper edge of the last bin, greater than {@code histogramMin}
   */
  public OutputStats(int dims, int bins, double histogramMin, double histogramMax) {
    if (dims < 1) {
      throw new IllegalArgumentException("Invalid dims for stats: " + dims + " (must be > 0)");
    }
    if (bins < 1) {
      throw new IllegalArgumentException("Invalid bins for stats: " + bins + " (must be > 0)");
    }
    if (!(histogramMin < histogramMax) || Double.isInfinite(histogramMin) || Double.isInfinite(histogramMax)) {
      throw new IllegalArgumentException("Invalid histogram range for stats: [" + histogramMin + ", " + histogramMax
          + "] (min must be less than max, both finite)");
    }
    this.dims = dims;
    this.bins = bins;
    this.histogramMin = histogramMin;
    this.histogramMax = histogramMax;
    this.nanCount = new long[dims];
    this.sum = new double[dims];
    this.min = new double[dims];
    this.max = new double[dims];
    this.histogram = new long[dims * bins];
    this.underflow = new long[dims];
    this.overflow = new long[dims];
    reset();
  }

  public int dims() {
    return dims;
  }

  @Override
  public boolean isZero() {
    return rows == 0;
  }

  @Override
  public OutputStats copy() {
    OutputStats copy = new OutputStats(dims, bins, histogramMin, histogramMax);
    copy.merge(this);
    return copy;
  }

  @Override
  public void reset() {
    rows = 0;
    Arrays.fill(nanCount, 0);
    Arrays.fill(sum, 0);
    Arrays.fill(min, Double.POSITIVE_INFINITY);
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
    Arrays.fill(histogram, 0);
    Arrays.fill(underflow, 0);
    Arrays.fill(overflow, 0);
  }

  /** Adds every value of {@code block}, whose columns are the dimensions. */
  @Override
  public void add(FloatBlock block) {
    if (block.cols() != dims) {
      throw new IllegalArgumentException("Cannot add a block of " + block.cols() + " columns to stats of " + dims
          + " dimensions (out_features)");
    }
    int blockRows = block.rows();
    if (blockRows == 0) {
      return;
    }
    rows += blockRows;
    int chunkRows = Math.max(1, Math.min(blockRows, CHUNK_VALUES / dims));
    float[] values = new float[chunkRows * dims];
    double width = (histogramMax - histogramMin) / bins;
    for (int first = 0; first < blockRows; first += chunkRows) {
      int n = Math.min(chunkRows, blockRows - first);
      block.readRows(first, n, values, 0);
      for (int r = 0; r < n; r++) {
        for (int d = 0; d < dims; d++) {
          addValue(d, values[r * dims + d], width);
        }
      }
    }
  }

  private void addValue(int d, float v, double width) {
    if (Float.isNaN(v)) {
      nanCount[d]++;
      return;
    }
    sum[d] += v;
    if (v < min[d]) {
      min[d] = v;
    }
    if (v > max[d]) {
      max[d] = v;
    }
    if (v < histogramMin) {
      underflow[d]++;
    } else if (v > histogramMax) {
      overflow[d]++;
    } else {
      int bin = (int) ((v - histogramMin) / width);
      histogram[d * bins + Math.min(bin, bins - 1)]++;
    }
  }

  @Override
  public void merge(AccumulatorV2<FloatBlock, List<DimensionStats>> other) {
    if (!(other instanceof OutputStats that) || that.dims != dims || that.bins != bins
        || that.histogramMin != histogramMin || that.histogramMax != histogramMax) {
      throw new UnsupportedOperationException("Cannot merge OutputStats(dims=" + dims + ", bins=" + bins + ", range=["
          + histogramMin + ", " + histogramMax + "]) with " + other);
    }
    rows += that.rows;
    for (int d = 0; d < dims; d++) {
      nanCount[d] += that.nanCount[d];
      sum[d] += that.sum[d];
      min[d] = Math.min(min[d], that.min[d]);
      max[d] = Math.max(max[d], that.max[d]);
      underflow[d] += that.underflow[d];
      overflow[d] += that.overflow[d];
    }
    for (int i = 0; i < histogram.length; i++) {
      histogram[i] += that.histogram[i];
    }
  }

  /** The statistics of each dimension, in order. */
  @Override
  public List<DimensionStats> value() {
    List<DimensionStats> out = new ArrayList<>(dims);
    for (int d = 0; d < dims; d++) {
      long seen = rows - nanCount[d];
      out.add(new DimensionStats(d, rows, nanCount[d],
          seen == 0 ? Double.NaN : sum[d] / seen,
          seen == 0 ? Double.NaN : min[d],
          seen == 0 ? Double.NaN : max[d],
          histogramMin, histogramMax,
          Arrays.copyOfRange(histogram, d * bins, (d + 1) * bins),
          underflow[d], overflow[d]));
    }
    return out;
  }
}
