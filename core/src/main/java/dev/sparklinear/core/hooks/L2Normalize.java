package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/**
 * Scales each row to unit Euclidean length, as {@code torch.nn.functional.normalize(x, p=2, dim=1, eps)}:
 * {@code x / max(||x||_2, eps)}, so a zero row stays zero. The norm is computed in double.
 */
public final class L2Normalize extends BlockHook {
  private static final long serialVersionUID = 1L;

  /** PyTorch's default {@code eps}. */
  public static final double DEFAULT_EPS = 1e-12;

  private final double eps;

  public L2Normalize() {
    this(DEFAULT_EPS);
  }

  /** @param eps the smallest norm divided by; must be positive and finite */
  public L2Normalize(double eps) {
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("Invalid eps for l2-normalize: " + eps + " (must be > 0 and finite)");
    }
    this.eps = eps;
  }

  public double eps() {
    return eps;
  }

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      double squares = 0;
      for (int i = start; i < start + cols; i++) {
        squares += (double) values[i] * values[i];
      }
      double norm = Math.max(Math.sqrt(squares), eps);
      for (int i = start; i < start + cols; i++) {
        values[i] = (float) (values[i] / norm);
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "L2Normalize(eps=" + eps + ")";
  }
}
