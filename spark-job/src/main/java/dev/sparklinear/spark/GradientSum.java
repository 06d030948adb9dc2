package dev.sparklinear.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * What the rows of one or more partitions add up to in an epoch of a fit, in double: the loss summed over the rows,
 * the count its mean divides by (torch's {@code total_weight}), and each parameter's gradient of that sum, in the
 * order of the module's {@code namedParameters()}. Sums of partitions add with {@link #plus}; added in partition
 * order they give the same bits on every run.
 */
public final class GradientSum implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long rows;
  private final double loss;
  private final double totalWeight;
  private final double[][] gradients;

  GradientSum(long rows, double loss, double totalWeight, double[][] gradients) {
    this.rows = rows;
    this.loss = loss;
    this.totalWeight = totalWeight;
    this.gradients = gradients;
  }

  /** The sum of the two, element by element; neither changes. */
  public GradientSum plus(GradientSum other) {
    if (other.gradients.length != gradients.length) {
      throw new IllegalArgumentException("Cannot add the gradients of " + other.gradients.length + " parameters to"
          + " those of " + gradients.length);
    }
    double[][] sum = new double[gradients.length][];
    for (int i = 0; i < gradients.length; i++) {
      sum[i] = gradients[i].clone();
      double[] add = other.gradients[i];
      for (int j = 0; j < add.length; j++) {
        sum[i][j] += add[j];
      }
    }
    return new GradientSum(rows + other.rows, loss + other.loss, totalWeight + other.totalWeight, sum);
  }

  /** The rows that took part. */
  public long rows() {
    return rows;
  }

  /** The loss summed over the rows. */
  public double lossSum() {
    return loss;
  }

  /** The count the mean loss divides by. */
  public double totalWeight() {
    return totalWeight;
  }

  /** The mean loss, as torch's {@code reduction='mean'}: NaN when no row took part. */
  public double meanLoss() {
    return loss / totalWeight;
  }

  /** The gradient of the mean loss for parameter {@code index}, each value rounded to float32 once. */
  public float[] meanGradient(int index) {
    double[] sum = gradients[index];
    float[] mean = new float[sum.length];
    for (int j = 0; j < sum.length; j++) {
      mean[j] = (float) (sum[j] / totalWeight);
    }
    return mean;
  }

  @Override
  public String toString() {
    return "GradientSum(rows=" + rows + ", loss=" + loss + ", totalWeight=" + totalWeight + ", parameters="
        + Arrays.stream(gradients).mapToInt(g -> g.length).boxed().toList() + ")";
  }
}
