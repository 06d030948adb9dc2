package dev.sparklinear.spark.hooks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The statistics of one output dimension over a job: how many values were seen, how many were NaN, the mean, least
 * and greatest of the others, and a histogram of fixed-width bins over {@code [histogramMin, histogramMax]} (the last
 * bin includes its upper edge, as in {@code numpy.histogram}) with counts of the values below and above that range.
 * Infinities count as below or above; NaN is in no bin.
 *
 * @param mean the mean of the non-NaN values, NaN when there are none
 * @param min the least non-NaN value, NaN when there are none
 * @param max the greatest non-NaN value, NaN when there are none
 */
public record DimensionStats(
    int dimension,
    long count,
    long nanCount,
    double mean,
    double min,
    double max,
    double histogramMin,
    double histogramMax,
    long[] bins,
    long underflow,
    long overflow) {

  public DimensionStats {
    bins = bins.clone();
  }

  @Override
  public long[] bins() {
    return bins.clone();
  }

  /** For the run summary's JSON; non-finite numbers become null. */
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("dimension", dimension);
    map.put("count", count);
    map.put("nan_count", nanCount);
    map.put("mean", json(mean));
    map.put("min", json(min));
    map.put("max", json(max));
    Map<String, Object> histogram = new LinkedHashMap<>();
    histogram.put("min", histogramMin);
    histogram.put("max", histogramMax);
    histogram.put("bins", bins.clone());
    histogram.put("underflow", underflow);
    histogram.put("overflow", overflow);
    map.put("histogram", histogram);
    return map;
  }

  private static Object json(double value) {
    return Double.isFinite(value) ? value : Double.isNaN(value) ? null : value > 0 ? "Infinity" : "-Infinity";
  }
}
