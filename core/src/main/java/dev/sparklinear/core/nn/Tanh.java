package dev.sparklinear.core.nn;

/** {@code tanh(x)} for each value, as PyTorch's {@code nn.Tanh}, computed in double and rounded once. */
public class Tanh extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  double activate64(double x) {
    return Math.tanh(x);
  }

  /**
   * The input, not the output that torch's {@code tanh_backward} reads: {@code 1 - y^2} from a float32 {@code y} loses
   * most of its digits where {@code |y|} nears 1 (and is 0 once {@code y} rounds to 1), which the derivative at the
   * input does not.
   */
  @Override
  int savedForBackward() {
    return SAVES_INPUT;
  }

  /** {@code 1 / cosh(x)^2}: the same as {@code 1 - tanh(x)^2} without its cancellation; 0 once {@code cosh} overflows. */
  @Override
  double derivative(double x, double y) {
    double cosh = Math.cosh(x);
    return 1 / (cosh * cosh);
  }

  /** The function itself, shared with the {@code tanh} hook. */
  public static float tanh(float x) {
    return (float) Math.tanh(x);
  }
}
