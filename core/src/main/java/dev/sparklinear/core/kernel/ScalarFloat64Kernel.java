package dev.sparklinear.core.kernel;

import java.util.Arrays;

/**
 * The portable {@link Float64Kernel}: {@code B} row-major, each term added by {@link Math#fma}, in the order of
 * {@code k}.
 */
final class ScalarFloat64Kernel implements Float64Kernel {
  /** Row-major is this kernel's layout: {@code b} itself. */
  @Override
  public double[] pack(double[] b, int depth, int cols) {
    return b;
  }

  @Override
  public void addProducts(double[] a, int aOffset, int aDepthStride, int aRowStride, double[] b, boolean packed,
      int depth, int rows, int cols, double[] c, int cOffset, boolean fromZero) {
    if (fromZero) {
      Arrays.fill(c, cOffset, cOffset + rows * cols, 0.0);
    }
    for (int k = 0; k < depth; k++) {
      int bRow = k * cols;
      for (int m = 0; m < rows; m++) {
        double factor = a[aOffset + k * aDepthStride + m * aRowStride];
        int cRow = cOffset + m * cols;
        for (int j = 0; j < cols; j++) {
          c[cRow + j] = Math.fma(factor, b[bRow + j], c[cRow + j]);
        }
      }
    }
  }

  @Override
  public void widen(float[] src, int from, int count, double[] dst) {
    for (int i = 0; i < count; i++) {
      dst[i] = src[from + i];
    }
  }

  @Override
  public String name() {
    return "scalar";
  }
}
