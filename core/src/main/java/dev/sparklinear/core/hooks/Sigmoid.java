package dev.sparklinear.core.hooks;

/** {@code 1 / (1 + exp(-x))} element-wise, as {@code torch.sigmoid}, computed in double and rounded to float. */
public final class Sigmoid extends ElementwiseHook {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return dev.sparklinear.core.nn.Sigmoid.sigmoid(x);
  }
}
