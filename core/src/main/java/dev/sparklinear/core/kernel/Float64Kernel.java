package dev.sparklinear.core.kernel;

/**
 * The one product a Linear layer's float64 pass needs: {@code C += A^T B}, where {@code A} is read through two strides
 * so that the same step gives the forward {@code Y = X W^T} and the backward {@code dW = dY^T X} and {@code dX = dY W}.
 * {@link Float64Linear} picks the implementation: the Vector API one where the vector kernel is available, else the
 * scalar one.
 *
 * <p>Each {@code C[m, j]} adds its terms in the order of {@code k}, onto the value it had, each by a fused
 * multiply-add (one rounding per term). Both implementations keep that order and give the same bits.
 *
 * <p>{@code B} is read row-major, or in the layout {@link #pack} makes: a factor used for many rows (a weight) is
 * packed once into the layout this kernel reads fastest.
 */
interface Float64Kernel {
  /** {@code b} ({@code depth x cols}, row-major) in this kernel's packed layout, for {@link #addProducts}. */
  double[] pack(double[] b, int depth, int cols);

  /**
   * {@code c[cOffset + m * cols + j] = fma(a[aOffset + k * aDepthStride + m * aRowStride], b[k, j], c[cOffset + m *
   * cols + j])} for {@code k} from 0 to {@code depth - 1} in order, for every {@code m < rows} and {@code j < cols}.
   *
   * @param b {@code depth x cols}: row-major, or as {@link #pack} wrote it when {@code packed}
   * @param c {@code rows x cols}, row-major from {@code cOffset}
   * @param fromZero whether each sum starts at 0 rather than at {@code c}'s value (which is then not read)
   */
  void addProducts(double[] a, int aOffset, int aDepthStride, int aRowStride, double[] b, boolean packed, int depth,
      int rows, int cols, double[] c, int cOffset, boolean fromZero);

  /** {@code dst[i] = src[from + i]} widened to float64 (exactly), for {@code i < count}. */
  void widen(float[] src, int from, int count, double[] dst);

  /** {@code "vector"} or {@code "scalar"}, as {@link LinearKernel#name()}. */
  String name();
}
