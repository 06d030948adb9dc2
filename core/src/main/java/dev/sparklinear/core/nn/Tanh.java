package dev.sparklinear.core.nn;

/** {@code tanh(x)} for each value, as PyTorch's {@code nn.Tanh}, computed in double and rounded once. */
public class Tanh extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return tanh(x);
  }

  /** The function itself, shared with the {@code tanh} hook. */
  public static float tanh(float x) {
    return (float) Math.tanh(x);
  }
}
