package dev.sparklinear.core.nn;

/**
 * {@code 1 / (1 + exp(-x))} for each value, as PyTorch's {@code nn.Sigmoid}, computed in double and rounded once:
 * {@code exp} overflows to infinity only where the exact result rounds to 0 in float32 anyway.
 */
public class Sigmoid extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  double activate64(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /**
   * The input, not the output that torch's {@code sigmoid_backward} reads: {@code y (1 - y)} from a float32 {@code y}
   * carries the rounding of {@code y}, magnified in {@code 1 - y} where {@code y} nears 1, which the derivative at the
   * input does not.
   */
  @Override
  int savedForBackward() {
    return SAVES_INPUT;
  }

  /**
   * {@code sigmoid(x) (1 - sigmoid(x)) = e / (1 + e)^2} with {@code e = exp(-|x|)}, the derivative being even: no
   * cancellation on either side.
   */
  @Override
  double derivative(double x, double y) {
    double e = Math.exp(-Math.abs(x));
    return e / ((1 + e) * (1 + e));
  }

  /** The function itself, shared with the {@code sigmoid} hook. */
  public static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-(double) x)));
  }
}
