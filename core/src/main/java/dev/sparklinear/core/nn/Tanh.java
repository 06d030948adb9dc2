package dev.sparklinear.core.nn;

/** {@code tanh(x)} for each value, as PyTorch's {@code nn.Tanh}, computed in double and rounded once. */
public class Tanh extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return tanh(x);
  }

  @Override
  int savedForBackward() {
    return SAVES_OUTPUT;
  }

  /** {@code 1 - y^2}, as torch's {@code tanh_backward} from the output. */
  @Override
  double derivative(float x, float y) {
    return 1 - (double) y * y;
  }

  /** The function itself, shared with the {@code tanh} hook. */
  public static float tanh(float x) {
    return (float) Math.tanh(x);
  }
}
