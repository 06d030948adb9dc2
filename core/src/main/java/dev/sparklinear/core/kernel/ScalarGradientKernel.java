package dev.sparklinear.core.kernel;

import java.util.Arrays;

/**
 * The portable {@link GradientKernel}: {@code B} row-major, each product added in float64, in the order of {@code k}.
 */
final class ScalarGradientKernel implements GradientKernel {
  /** Row-major is this kernel's layout: {@code b} itself. */
  @Override
  public float[] pack(float[] b, int depth, int cols) {
    return b;
  }

  @Override
  public void addProducts(float[] a, int aDepthStride, int aRowStride, float[] b, boolean packed, int depth, int rows,
      int cols, double[] c, boolean fromZero) {
    if (fromZero) {
      Arrays.fill(c, 0, rows * cols, 0.0);
    }
    for (int k = 0; k < depth; k++) {
      int bRow = k * cols;
      for (int m = 0; m < rows; m++) {
        double factor = a[k * aDepthStride + m * aRowStride];
        int cRow = m * cols;
        for (int j = 0; j < cols; j++) {
          c[cRow + j] += factor * b[bRow + j];
        }
      }
    }
  }

  @Override
  public String name() {
    return "scalar";
  }
}
