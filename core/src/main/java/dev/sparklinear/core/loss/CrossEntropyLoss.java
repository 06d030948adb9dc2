package dev.sparklinear.core.loss;

import dev.sparklinear.core.block.FloatBlock;
import java.util.Arrays;

/**
 * Cross-entropy of logits against class indices, as torch's {@code nn.CrossEntropyLoss}: each row of the output
 * ({@code [n, C]}, unnormalised logits) against its target class in {@code [0, C)}. With
 * {@code ls_c = x_c - logsumexp(x)}, the row's loss is
 *
 * <pre>
 *   l = (1 - e) w_y (-ls_y) + (e / C) sum_c w_c (-ls_c)
 * </pre>
 *
 * where {@code y} is the target, {@code w} the class weights (1 when not given) and {@code e} the label smoothing.
 * {@code logsumexp} subtracts the row's maximum first, so large logits neither overflow nor lose the small
 * differences. The mean divides by the number of rows, or by the sum of the class weights of the rows' targets when
 * there are class weights, as torch's does; rows whose target is {@code ignore_index} (default -100) count for
 * nothing and get a zero gradient. Gradient of a row: {@code (1 - e) w_y (p_j - [j = y]) + (e / C)(W p_j - w_j)}
 * with {@code p = softmax(x)} and {@code W = sum_c w_c}, scaled.
 *
 * <p>Targets are class indices ({@code long[]}, one per row), torch's int64 targets; class probabilities as targets
 * are not offered.
 */
public final class CrossEntropyLoss extends Loss<long[]> {
  private static final long serialVersionUID = 1L;

  /** Torch's default {@code ignore_index}. */
  public static final long DEFAULT_IGNORE_INDEX = -100;

  private final float[] weight;
  private final long ignoreIndex;
  private final double labelSmoothing;

  /** {@code nn.CrossEntropyLoss()}: the mean, no class weights, ignore_index -100, no label smoothing. */
  public CrossEntropyLoss() {
    this(Reduction.MEAN);
  }

  public CrossEntropyLoss(Reduction reduction) {
    this(reduction, null, DEFAULT_IGNORE_INDEX, 0);
  }

  /**
   * @param weight a weight per class, or null ({@code weight} in torch)
   * @param ignoreIndex a target value whose rows count for nothing ({@code ignore_index})
   * @param labelSmoothing in [0, 1] ({@code label_smoothing})
   */
  public CrossEntropyLoss(Reduction reduction, float[] weight, long ignoreIndex, double labelSmoothing) {
    super(reduction);
    if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
      throw new IllegalArgumentException("label_smoothing must be between 0.0 and 1.0. Got: " + labelSmoothing);
    }
    this.weight = weight == null ? null : weight.clone();
    this.ignoreIndex = ignoreIndex;
    this.labelSmoothing = labelSmoothing;
  }

  @Override
  protected void checkTarget(FloatBlock output, long[] target) {
    if (target.length != output.rows()) {
      throw new IllegalArgumentException(
          "Expected input batch_size (" + output.rows() + ") to match target batch_size (" + target.length + ").");
    }
    if (weight != null && weight.length != output.cols()) {
      throw new IllegalArgumentException("weight tensor should be defined either for all " + output.cols()
          + " classes or no classes but got weight tensor of shape: [" + weight.length + "]");
    }
    for (long t : target) {
      if (t != ignoreIndex && (t < 0 || t >= output.cols())) {
        throw new IndexOutOfBoundsException("Target " + t + " is out of bounds.");
      }
    }
  }

  @Override
  protected double totalWeight(FloatBlock output, long[] target) {
    double total = 0;
    for (long t : target) {
      if (t != ignoreIndex) {
        total += weight == null ? 1 : weight[(int) t];
      }
    }
    return total;
  }

  @Override
  protected LossSum compute(FloatBlock output, long[] target, double scale, FloatBlock gradient) {
    double smoothingPerClass = labelSmoothing / output.cols();
    double sumOfWeights = 0;
    for (int c = 0; c < output.cols(); c++) {
      sumOfWeights += weight == null ? 1 : weight[c];
    }
    double allWeights = sumOfWeights;
    double sum = sumChunks(output, gradient, (x, rows, cols, firstRow, grad) -> {
      double[] logSoftmax = new double[cols];
      double chunk = 0;
      for (int r = 0; r < rows; r++) {
        int offset = r * cols;
        long t = target[firstRow + r];
        if (t == ignoreIndex) {
          if (grad != null) {
            Arrays.fill(grad, offset, offset + cols, 0f);
          }
          continue;
        }
        int y = (int) t;
        logSoftmax(x, offset, cols, logSoftmax);
        double wy = weight == null ? 1 : weight[y];
        double loss = (1 - labelSmoothing) * wy * -logSoftmax[y];
        if (labelSmoothing > 0) { // only then: 0 * -inf would make a NaN of a row with a -inf logit
          double smooth = 0;
          for (int c = 0; c < cols; c++) {
            smooth += (weight == null ? 1 : weight[c]) * -logSoftmax[c];
          }
          loss += smoothingPerClass * smooth;
        }
        chunk += loss;
        if (grad != null) {
          for (int j = 0; j < cols; j++) {
            double p = Math.exp(logSoftmax[j]);
            double d = (1 - labelSmoothing) * wy * (j == y ? p - 1 : p);
            if (labelSmoothing > 0) {
              d += smoothingPerClass * (allWeights * p - (weight == null ? 1 : weight[j]));
            }
            grad[offset + j] = (float) (scale * d);
          }
        }
      }
      return chunk;
    });
    return new LossSum(sum, totalWeight(output, target));
  }

  /** {@code x_c - logsumexp(x)} of one row, in double, with the row's maximum taken out before the exponentials. */
  private static void logSoftmax(float[] x, int offset, int cols, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < cols; c++) {
      max = Math.max(max, x[offset + c]);
    }
    double sumExp = 0;
    for (int c = 0; c < cols; c++) {
      sumExp += Math.exp(x[offset + c] - max);
    }
    double logSumOfShifted = Math.log(sumExp);
    for (int c = 0; c < cols; c++) {
      out[c] = (x[offset + c] - max) - logSumOfShifted; // not x - (max + log): exact differences of large logits
    }
  }

  @Override
  public String toString() {
    return "CrossEntropyLoss(reduction=" + reduction().torchName() + optionRepr("weight", weight)
        + (ignoreIndex == DEFAULT_IGNORE_INDEX ? "" : ", ignore_index=" + ignoreIndex)
        + (labelSmoothing == 0 ? "" : ", label_smoothing=" + labelSmoothing) + ")";
  }
}
