package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;
import java.util.Arrays;

/**
 * {@code (x - mean) / std} per column, in float32 as PyTorch computes {@code (x - mean) / std} on float tensors: the
 * usual way to feed a layer the standardized features it was trained on.
 *
 * <pre>{@code
 * fc.registerForwardPreHook(new Standardize(new float[] {0.5f, 2f}, new float[] {1f, 4f}));
 * }</pre>
 */
public final class Standardize extends BlockHook {
  private static final long serialVersionUID = 1L;

  private final float[] mean;
  private final float[] std;

  /**
   * @param mean one value per column, finite
   * @param std one value per column, finite and not 0
   * @throws IllegalArgumentException when the lengths differ, a value is not finite, or a std is 0
   */
  public Standardize(float[] mean, float[] std) {
    if (mean.length == 0 || mean.length != std.length) {
      throw new IllegalArgumentException("Invalid standardize vectors: mean has " + mean.length + " values and std has "
          + std.length + " (must be the same, and not 0)");
    }
    for (int i = 0; i < mean.length; i++) {
      if (!Float.isFinite(mean[i])) {
        throw new IllegalArgumentException("Invalid standardize mean[" + i + "]: " + mean[i] + " (must be finite)");
      }
      if (!Float.isFinite(std[i])) {
        throw new IllegalArgumentException("Invalid standardize std[" + i + "]: " + std[i] + " (must be finite)");
      }
      if (std[i] == 0) {
        throw new IllegalArgumentException("Invalid standardize std[" + i + "]: 0 (dividing by it gives infinities);"
            + " a column with std 0 is constant: use std 1 for it, or drop the column");
      }
    }
    this.mean = mean.clone();
    this.std = std.clone();
  }

  /** A copy of the mean vector. */
  public float[] mean() {
    return mean.clone();
  }

  /** A copy of the std vector. */
  public float[] std() {
    return std.clone();
  }

  @Override
  protected void checkWidth(int cols, Target target) {
    if (cols != mean.length) {
      throw new IllegalArgumentException("standardize has mean and std of " + mean.length + " values, but the module's "
          + target + " have " + cols + " columns (" + (target == Target.INPUTS ? "in_features" : "out_features")
          + " = " + cols + "); give one value per column");
    }
  }

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      for (int c = 0; c < cols; c++) {
        values[start + c] = (values[start + c] - mean[c]) / std[c];
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "Standardize(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
  }
}
