package dev.sparklinear.core.hooks;

/** {@code 1 / (1 + exp(-x))} element-wise, as {@code torch.sigmoid}, computed in double and rounded to float. */
public final class Sigmoid extends ElementwiseHook {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
  }
}
