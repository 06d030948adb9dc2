package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/** {@code tanh(x)} element-wise, as {@code torch.tanh}. */
public final class Tanh extends BlockHook {
  private static final long serialVersionUID = 1L;

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      values[i] = (float) Math.tanh(values[i]);
    }
    return true;
  }

  @Override
  public String toString() {
    return "Tanh()";
  }
}
