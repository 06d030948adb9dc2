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
 * <p>Each row is read from the block once (a chunk of rows at a time, into a heap array) and written once. Its mean
 * and variance come from one loop over the row, in double, summing the deviations from the row's first value and
 * their squares: with the shift a value of the row, {@code (mean - shift)^2 <= n var}, so the cancellation in
 * {@code var = sum d^2 / n - (sum d / n)^2} loses at most a factor {@code n} of double precision, and a row of
 * {@code 1e4 + noise} keeps its variance (with no division per value, unlike Welford's update). A second loop over
 * the row, still in cache, normalises it, in double, rounded once. A constant row has variance 0 and gives the bias.
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
  void forwardRows64(double[] values, int rows, int cols) {
    Tensor weightTensor = parameter("weight");
    Tensor biasTensor = parameter("bias");
    float[] weight = weightTensor == null ? null : weightTensor.toArray();
    float[] bias = biasTensor == null ? new float[cols] : biasTensor.toArray();
    double[] statistics = new double[3];
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      rowStatistics(values, start, cols, statistics);
      double shift = statistics[0];
      double meanShift = statistics[1];
      double inverseStd = statistics[2];
      if (weight == null) {
        for (int k = 0; k < cols; k++) {
          values[start + k] = (values[start + k] - shift - meanShift) * inverseStd;
        }
      } else {
        for (int k = 0; k < cols; k++) {
          values[start + k] = (values[start + k] - shift - meanShift) * inverseStd * weight[k] + bias[k];
        }
      }
    }
  }

  /**
   * One row's statistics in one pass of shifted sums, with the row's first value as the shift: writes the shift to
   * {@code statistics[0]}, the mean of {@code x - shift} to {@code statistics[1]} and {@code 1 / sqrt(variance + eps)}
   * to {@code statistics[2]}. For float32 values the differences are exact in double unless a row spans 2^29 in
   * magnitude, so the shift costs no accuracy and keeps the one-pass variance free of cancellation.
   */
  private void rowStatistics(double[] values, int start, int cols, double[] statistics) {
    double shift = values[start];
    double sum = 0;
    double squares = 0;
    for (int k = 0; k < cols; k++) {
      double d = values[start + k] - shift;
      sum += d;
      squares += d * d;
    }
    double meanShift = sum / cols;
    double variance = Math.max(0, squares / cols - meanShift * meanShift);
    statistics[0] = shift;
    statistics[1] = meanShift;
    statistics[2] = 1 / Math.sqrt(variance + eps());
  }

  @Override
  int savedForBackward() {
    return SAVES_INPUT;
  }

  /**
   * Recomputes each row's statistics as {@code forwardRows} does, then, with {@code xhat = (x - mean) rstd} and
   * {@code dxhat = g weight}: {@code dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))}, {@code dweight += g
   * xhat}, {@code dbias += g}, as torch's {@code layer_norm_backward}, in float64.
   */
  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    Tensor weightTensor = parameter("weight");
    float[] weight = weightTensor == null ? null : weightTensor.toArray();
    double[] statistics = new double[3];
    double[] xhat = new double[cols];
    double[] dxhat = new double[cols];
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      rowStatistics(input, start, cols, statistics);
      double inverseStd = statistics[2];
      double shift = statistics[0];
      double meanShift = statistics[1];
      double meanDxhat = 0;
      double meanDxhatXhat = 0;
      for (int k = 0; k < cols; k++) {
        double g = grad[start + k];
        xhat[k] = (input[start + k] - shift - meanShift) * inverseStd;
        dxhat[k] = weight == null ? g : g * weight[k];
        meanDxhat += dxhat[k];
        meanDxhatXhat += dxhat[k] * xhat[k];
        if (weightGrad != null) {
          weightGrad[k] += g * xhat[k];
        }
        if (biasGrad != null) {
          biasGrad[k] += g;
        }
      }
      meanDxhat /= cols;
      meanDxhatXhat /= cols;
      for (int k = 0; k < cols; k++) {
        grad[start + k] = inverseStd * (dxhat[k] - meanDxhat - xhat[k] * meanDxhatXhat);
      }
    }
  }

  @Override
  protected String extraRepr() {
    return "(" + normalizedShape + ",), eps=" + TorchRepr.number(eps()) + ", elementwise_affine="
        + TorchRepr.bool(elementwiseAffine);
  }
}
