package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/**
 * Limits every value to {@code [min, max]}, as {@code torch.clamp}; either bound may be left out (null). NaN stays
 * NaN. Unlike PyTorch, which quietly gives {@code max} everywhere, {@code min > max} is refused as the mistake it
 * almost always is.
 */
public final class Clamp extends BlockHook {
  private static final long serialVersionUID = 1L;

  private final Float min;
  private final Float max;

  /**
   * @param min the lower bound, or null for none
   * @param max the upper bound, or null for none
   * @throws IllegalArgumentException when both are null, either is NaN, or {@code min > max}
   */
  public Clamp(Float min, Float max) {
    if (min == null && max == null) {
      throw new IllegalArgumentException("clamp needs at least one of min and max");
    }
    if ((min != null && min.isNaN()) || (max != null && max.isNaN())) {
      throw new IllegalArgumentException("Invalid bound for clamp: min=" + min + ", max=" + max + " (NaN)");
    }
    if (min != null && max != null && min > max) {
      throw new IllegalArgumentException(
          "Invalid bounds for clamp: min=" + min + " is greater than max=" + max + "; swap them");
    }
    this.min = min;
    this.max = max;
  }

  /** Clamps from below only, as {@code torch.clamp(x, min=min)}. */
  public static Clamp atLeast(float min) {
    return new Clamp(min, null);
  }

  /** Clamps from above only, as {@code torch.clamp(x, max=max)}. */
  public static Clamp atMost(float max) {
    return new Clamp(null, max);
  }

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    float lo = min == null ? Float.NEGATIVE_INFINITY : min;
    float hi = max == null ? Float.POSITIVE_INFINITY : max;
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      float v = values[i];
      if (v < lo) {
        values[i] = lo;
      } else if (v > hi) {
        values[i] = hi;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "Clamp(min=" + min + ", max=" + max + ")";
  }
}
