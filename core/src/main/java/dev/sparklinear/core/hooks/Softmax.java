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
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      int end = start + cols;
      double max = Double.NEGATIVE_INFINITY;
      for (int i = start; i < end; i++) {
        // Not Math.max: a NaN must not be skipped, and it propagates through the subtraction below.
        max = values[i] > max || Float.isNaN(values[i]) ? values[i] : max;
      }
      double sum = 0;
      for (int i = start; i < end; i++) {
        sum += Math.exp(values[i] - max);
      }
      for (int i = start; i < end; i++) {
        values[i] = (float) (Math.exp(values[i] - max) / sum);
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "Softmax(dim=1)";
  }
}
