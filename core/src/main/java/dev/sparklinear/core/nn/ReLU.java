package dev.sparklinear.core.nn;

import dev.sparklinear.core.kernel.Epilogue;

/**
 * {@code max(0, x)} for each value, as PyTorch's {@code nn.ReLU}; NaN stays NaN.
 *
 * <p>{@code inplace} is kept for the repr ({@code ReLU(inplace=True)}) and for round trips of a PyTorch model; a block
 * is never changed in place: the output is always a new block.
 */
public class ReLU extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  private final boolean inplace;

  public ReLU() {
    this(false);
  }

  public ReLU(boolean inplace) {
    this.inplace = inplace;
  }

  @Override
  float activate(float x) {
    return relu(x);
  }

  @Override
  double activate64(double x) {
    return x < 0 ? 0.0 : x;
  }

  /** The output, as torch's {@code threshold_backward(grad, result, 0)}. */
  @Override
  int savedForBackward() {
    return SAVES_OUTPUT;
  }

  @Override
  double derivative(double x, double y) {
    return y <= 0 ? 0 : 1;
  }

  /** {@code y <= 0 ? 0 : grad}, as torch: the gradient passes where the output is positive or NaN. */
  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    for (int i = 0; i < rows * cols; i++) {
      if (output[i] <= 0) {
        grad[i] = 0;
      }
    }
  }

  /**
   * The function itself: {@code x < 0 ? 0 : x}, so that NaN and {@code -0.0} pass unchanged, as in PyTorch; shared
   * with the {@code relu} hook.
   */
  public static float relu(float x) {
    return Epilogue.relu(x);
  }

  /** The kernels' own ReLU, which the vector kernel runs with vector instructions (the same function). */
  @Override
  Epilogue epilogue() {
    return Epilogue.RELU;
  }

  /** PyTorch's {@code inplace} argument, kept for the repr and for saving; blocks are never changed in place. */
  public final boolean inplace() {
    return inplace;
  }

  @Override
  protected String extraRepr() {
    return inplace ? "inplace=True" : "";
  }
}
