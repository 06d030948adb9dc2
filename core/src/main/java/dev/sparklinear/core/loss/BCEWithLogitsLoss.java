package dev.sparklinear.core.loss;

import dev.sparklinear.core.block.FloatBlock;

/**
 * Binary cross-entropy on logits, as torch's {@code nn.BCEWithLogitsLoss}: for a logit {@code x} and a target
 * {@code y} in [0, 1] (soft labels allowed),
 *
 * <pre>
 *   l = w_c [ p_c y log(1 + e^-x) + (1 - y) log(1 + e^x) ] = w_c [ (1 - y) x + (1 + (p_c - 1) y) softplus(-x) ]
 * </pre>
 *
 * with {@code p_c} the {@code pos_weight} of the element's column and {@code w_c} its {@code weight} (both 1 when
 * not given). {@code softplus(-x)} is computed as {@code max(-x, 0) + log1p(e^-|x|)}, finite for every finite
 * logit. The mean averages over all {@code n * C} elements, weighted or not, as torch's does. Gradient:
 * {@code w_c [ (1 + (p_c - 1) y) sigmoid(x) - p_c y ]}, scaled.
 *
 * <p>{@code pos_weight} and {@code weight} are given per output column ({@code [C]}), the usual shape; torch also
 * broadcasts other shapes, which are not offered here.
 */
public final class BCEWithLogitsLoss extends Loss<FloatBlock> {
  private static final long serialVersionUID = 1L;

  private final float[] weight;
  private final float[] posWeight;

  /** {@code nn.BCEWithLogitsLoss()}: the mean, no weights. */
  public BCEWithLogitsLoss() {
    this(Reduction.MEAN, null, null);
  }

  /**
   * @param weight a factor per output column, or null ({@code weight} in torch)
   * @param posWeight the weight of positive targets per output column, or null ({@code pos_weight} in torch)
   */
  public BCEWithLogitsLoss(Reduction reduction, float[] weight, float[] posWeight) {
    super(reduction);
    this.weight = weight == null ? null : weight.clone();
    this.posWeight = posWeight == null ? null : posWeight.clone();
  }

  @Override
  protected void checkTarget(FloatBlock output, FloatBlock target) {
    checkSameSize(output, target);
    checkPerColumn("weight", weight, output);
    checkPerColumn("pos_weight", posWeight, output);
  }

  @Override
  protected LossSum compute(FloatBlock output, FloatBlock target, double scale, FloatBlock gradient) {
    double sum = sumChunks(output, target, gradient, (logits, targets, rows, cols, grad) -> {
      double chunk = 0;
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          int i = r * cols + c;
          double x = logits[i];
          double y = targets[i];
          double w = weight == null ? 1 : weight[c];
          double p = posWeight == null ? 1 : posWeight[c];
          double logWeight = 1 + (p - 1) * y;
          double softplusOfMinusX = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
          chunk += w * ((1 - y) * x + logWeight * softplusOfMinusX);
          if (grad != null) {
            // the same value two ways, each free of cancellation on its side: sigmoid(x) = 1 - sigmoid(-x)
            double d = x >= 0 ? (1 - y) - logWeight * sigmoid(-x) : logWeight * sigmoid(x) - p * y;
            grad[i] = (float) (scale * w * d);
          }
        }
      }
      return chunk;
    });
    return new LossSum(sum, totalWeight(output, target));
  }

  /** 1 / (1 + e^-x) without overflow for large |x|. */
  private static double sigmoid(double x) {
    if (x >= 0) {
      return 1 / (1 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1 + e);
  }

  @Override
  public String toString() {
    return "BCEWithLogitsLoss(reduction=" + reduction().torchName() + optionRepr("weight", weight)
        + optionRepr("pos_weight", posWeight) + ")";
  }
}
