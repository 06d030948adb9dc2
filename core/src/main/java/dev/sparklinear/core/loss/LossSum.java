package dev.sparklinear.core.loss;

/**
 * A loss before its reduction: the sum of the per-element losses, in double, and the count the mean divides by.
 *
 * <p>The count is what torch's {@code reduction='mean'} divides by: the number of elements for {@link MSELoss} and
 * {@link BCEWithLogitsLoss} (rows times columns, whatever their weights), and for {@link CrossEntropyLoss} the number
 * of rows not ignored, or the sum of their targets' class weights when there are class weights (torch's
 * {@code total_weight}). It is a double for that reason.
 *
 * <p>Sums of blocks and partitions add up with {@link #plus}, so a mean over data spread across machines is the mean
 * one machine would compute:
 *
 * <pre>{@code
 * LossSum total = partitionSums.stream().reduce(LossSum.ZERO, LossSum::plus);
 * double loss = total.mean();
 * }</pre>
 */
public record LossSum(double sum, double totalWeight) {
  /** Nothing yet: the identity of {@link #plus}. */
  public static final LossSum ZERO = new LossSum(0, 0);

  public LossSum plus(LossSum other) {
    return new LossSum(sum + other.sum, totalWeight + other.totalWeight);
  }

  /** {@code sum / totalWeight}: NaN when there is nothing to average, as torch's mean of nothing. */
  public double mean() {
    return sum / totalWeight;
  }

  /** The loss value under {@code reduction}. */
  public double reduce(Reduction reduction) {
    return reduction == Reduction.MEAN ? mean() : sum;
  }
}
