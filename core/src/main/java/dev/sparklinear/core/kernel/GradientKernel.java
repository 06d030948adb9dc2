package dev.sparklinear.core.kernel;

/**
 * The one product a Linear layer's backward pass needs, in float64: {@code C += A^T B}, where {@code A} is read through
 * two strides so that the same step gives both {@code dW = dY^T X} and {@code dX = dY W}. {@link LinearGradients}
 * reads the blocks a chunk of rows at a time into heap arrays and picks the implementation: the Vector API one where
 * the vector kernel is available, else the scalar one.
 *
 * <p>Every product of two float32 values is exact in float64, so the only rounding is that of each float64 addition;
 * each {@code C[m, j]} adds its terms in the order of {@code k}, onto the value it had. Both implementations keep that
 * order and give the same bits.
 *
 * <p>{@code B} is read as float32, row-major, or in the layout {@link #pack} makes: a factor used for many chunks of
 * rows (the weight, in {@code dX = dY W}) is packed once into the layout this kernel reads fastest.
 */
interface GradientKernel {
  /** {@code b} ({@code depth x cols}, row-major) in this kernel's packed layout, for {@link #addProducts}. */
  float[] pack(float[] b, int depth, int cols);

  /**
   * {@code c[m * cols + j] += a[k * aDepthStride + m * aRowStride] * b[k, j]} for {@code k} from 0 to
   * {@code depth - 1} in order, for every {@code m < rows} and {@code j < cols}, each product and sum in float64.
   *
   * @param b {@code depth x cols}: row-major, or as {@link #pack} wrote it when {@code packed}
   * @param c {@code rows x cols}, row-major
   * @param fromZero whether each sum starts at 0 rather than at {@code c}'s value (which is then not read)
   */
  void addProducts(float[] a, int aDepthStride, int aRowStride, float[] b, boolean packed, int depth, int rows,
      int cols, double[] c, boolean fromZero);

  /** {@code "vector"} or {@code "scalar"}, as {@link LinearKernel#name()}. */
  String name();
}
