package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;

/**
 * Normalizes each row over its features, as PyTorch's {@code nn.LayerNorm(normalized_shape)} with a single
 * (last) dimension: {@code y = (x - mean) / sqrt(var + eps) * weight + bias}, with the row's mean and biased variance.
 *
 * <ul>
 *   <li>input and output: blocks {@code [n, normalized_shape]};
 *   <li>{@code weight} (initialised to ones) and {@code bias} (zeros): {@code [normalized_shape]}, present when
 *       {@code elementwise_affine}; {@code bias = false} leaves the bias out, as PyTorch 2.1's argument does.
 * </ul>
 *
 * <p>The mean and variance are computed in one pass in double with Welford's update, which stays accurate when the
 * mean is large next to the spread (a row of {@code 1e4 + noise}); the output is computed in double and rounded once.
 * A constant row has variance 0 and gives the bias.
 */
public class LayerNorm extends Normalization {
  private static final long serialVersionUID = 1L;

  private final int normalizedShape;
  private final boolean elementwiseAffine;

  /** {@code eps = 1e-5}, with weight and bias, as PyTorch's defaults. */
  public LayerNorm(int normalizedShape) {
    this(normalizedShape, 1e-5, true);
  }

  public LayerNorm(int normalizedShape, double eps, boolean elementwiseAffine) {
    this(normalizedShape, eps, elementwiseAffine, true);
  }

  /**
   * @param normalizedShape the number of features of each row
   * @param eps added to the variance, inside the square root
   * @param elementwiseAffine whether the layer has a weight (and, with {@code bias}, a bias)
   * @param bias whether an affine layer has a bias
   */
  public LayerNorm(int normalizedShape, double eps, boolean elementwiseAffine, boolean bias) {
    super(eps);
    if (normalizedShape <= 0) {
      throw new IllegalArgumentException("Invalid normalized_shape: " + normalizedShape + " (must be > 0)");
    }
    this.normalizedShape = normalizedShape;
    this.elementwiseAffine = elementwiseAffine;
    if (elementwiseAffine) {
      registerAffine(normalizedShape, bias);
    }
  }

  public final int normalizedShape() {
    return normalizedShape;
  }

  /** Whether the layer has a weight (and maybe a bias), PyTorch's {@code elementwise_affine}. */
  public final boolean elementwiseAffine() {
    return elementwiseAffine;
  }

  /** @throws IllegalArgumentException worded as PyTorch's, when the input's width is not {@code normalized_shape} */
  @Override
  void checkInput(FloatBlock input) {
    if (input.cols() != normalizedShape) {
      throw new IllegalArgumentException("Given normalized_shape=[" + normalizedShape + "], expected input with shape [*, "
          + normalizedShape + "], but got input of size[" + input.rows() + ", " + input.cols() + "]");
    }
  }

  @Override
  void forwardRows(float[] values, int rows, int cols) {
    Tensor weight = parameter("weight");
    Tensor bias = parameter("bias");
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      double mean = 0;
      double squares = 0; // sum of squared deviations from the running mean (Welford)
      for (int k = 0; k < cols; k++) {
        double x = values[start + k];
        double delta = x - mean;
        mean += delta / (k + 1);
        squares += delta * (x - mean);
      }
      double inverseStd = 1 / Math.sqrt(squares / cols + eps());
      for (int k = 0; k < cols; k++) {
        double y = (values[start + k] - mean) * inverseStd;
        if (weight != null) {
          y = y * weight.get(k) + (bias == null ? 0 : bias.get(k));
        }
        values[start + k] = (float) y;
      }
    }
  }

  @Override
  protected String extraRepr() {
    return "(" + normalizedShape + ",), eps=" + TorchRepr.number(eps()) + ", elementwise_affine="
        + TorchRepr.bool(elementwiseAffine);
  }
}
