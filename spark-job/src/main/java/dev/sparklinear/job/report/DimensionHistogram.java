package dev.sparklinear.job.report;

/**
 * The distribution of one output dimension over a whole run.
 *
 * @param dimension the output index {@code j}
 * @param count finite values seen
 * @param nanCount NaN and infinite values seen
 * @param mean mean of the finite values
 * @param min smallest finite value
 * @param max largest finite value
 * @param low lower edge of the first bin
 * @param high upper edge of the last bin
 * @param bins counts of equal-width bins between {@code low} and {@code high}
 * @param below finite values under {@code low}
 * @param above finite values at or over {@code high}
 */
public record DimensionHistogram(
    int dimension, long count, long nanCount, double mean, double min, double max, double low, double high,
    long[] bins, long below, long above) {

  public DimensionHistogram {
    bins = bins.clone();
  }

  @Override
  public long[] bins() {
    return bins.clone();
  }
}
