package dev.sparklinear.core.nn;

/**
 * {@code 1 / (1 + exp(-x))} for each value, as PyTorch's {@code nn.Sigmoid}, computed in double and rounded once:
 * {@code exp} overflows to infinity only where the exact result rounds to 0 in float32 anyway.
 */
public class Sigmoid extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return sigmoid(x);
  }

  @Override
  int savedForBackward() {
    return SAVES_OUTPUT;
  }

  /** {@code y (1 - y)}, as torch's {@code sigmoid_backward} from the output. */
  @Override
  double derivative(float x, float y) {
    return (double) y * (1 - (double) y);
  }

  /** The function itself, shared with the {@code sigmoid} hook. */
  public static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-(double) x)));
  }
}
