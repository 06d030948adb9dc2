package dev.sparklinear.core.hooks;

/** {@code tanh(x)} element-wise, as {@code torch.tanh}. */
public final class Tanh extends ElementwiseHook {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return dev.sparklinear.core.nn.Tanh.tanh(x);
  }
}
