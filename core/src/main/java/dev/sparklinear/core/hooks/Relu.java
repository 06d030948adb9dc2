package dev.sparklinear.core.hooks;

/** {@code max(0, x)} element-wise, as {@code torch.relu}; NaN stays NaN. */
public final class Relu extends ElementwiseHook {
  private static final long serialVersionUID = 1L;

  @Override
  float activate(float x) {
    return dev.sparklinear.core.nn.ReLU.relu(x);
  }
}
