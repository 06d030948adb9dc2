package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/**
 * Softmax over each row, as {@code torch.softmax(x, dim=1)}: {@code exp(x_i - max) / sum_j exp(x_j - max)}, computed
 * in double. Subtracting the row's maximum keeps {@code exp} from overflowing, so large values work. A row holding NaN
 * or {@code +inf} comes out NaN, as in PyTorch.
 */
public final class Softmax extends BlockHook {
  private static final long serialVersionUID = 1L;

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    dev.sparklinear.core.nn.Softmax.softmaxRows(values, rows, cols);
    return true;
  }

  @Override
  public String toString() {
    return "Softmax(dim=1)";
  }
}
