package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/** {@code 1 / (1 + exp(-x))} element-wise, as {@code torch.sigmoid}, computed in double and rounded to float. */
public final class Sigmoid extends BlockHook {
  private static final long serialVersionUID = 1L;

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      values[i] = (float) (1.0 / (1.0 + Math.exp(-(double) values[i])));
    }
    return true;
  }

  @Override
  public String toString() {
    return "Sigmoid()";
  }
}
