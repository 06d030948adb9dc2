package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/** {@code max(0, x)} element-wise, as {@code torch.relu}; NaN stays NaN. */
public final class Relu extends BlockHook {
  private static final long serialVersionUID = 1L;

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      if (values[i] < 0) {
        values[i] = 0f;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "Relu()";
  }
}
