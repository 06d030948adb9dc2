package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;

/**
 * The backward products of {@code y = x W^T + b} for a block of rows, all accumulated in float64: {@code dW = dY^T X}
 * ({@code [out, in]}), {@code db = sum_r dY[r, :]} ({@code [out]}) and {@code dX = dY W} ({@code [n, in]}).
 *
 * <p>Why float64: the product of two float32 values is exact in float64, so a float64 sum of such products rounded to
 * float32 once is within half a unit in the last place of the exact value but for the (much smaller) float64 rounding
 * of the additions; torch's float32 GEMM rounds every partial sum, and our gradients are held to be no worse than its.
 * The weight and bias gradients are added into float64 arrays the caller owns, so that a caller summing many blocks
 * (a partition of a fit) rounds nothing until the end; {@code dX} is rounded once per value into the output block.
 * The forward kernels stay float32: this is the backward pass only.
 *
 * <p>The blocks are read a chunk of rows at a time into heap arrays, then multiplied by the Vector API
 * {@link GradientKernel} where {@link LinearKernels#vectorKernelAvailable()} (and the system property
 * {@value LinearKernels#KERNEL_PROPERTY} does not ask for {@code scalar}), else by the scalar one; both add each
 * value's products in row order (for {@code dW}) or output order (for {@code dX}) and give the same bits.
 */
public final class LinearGradients {
  /** About this many values of the wider block are read per chunk of rows (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  private static final GradientKernel KERNEL = LinearKernels.vectorKernelAvailable()
      && LinearKernels.Choice.fromSystemProperty() != LinearKernels.Choice.SCALAR
      ? vectorKernel()
      : new ScalarGradientKernel();

  private LinearGradients() {}

  private static GradientKernel vectorKernel() {
    try {
      return (GradientKernel) Class.forName(LinearGradients.class.getPackageName() + ".VectorGradientKernel")
          .getDeclaredConstructor()
          .newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return new ScalarGradientKernel();
    }
  }

  /** {@code "vector"} or {@code "scalar"}: which kernel the methods here run in this JVM. */
  public static String kernelName() {
    return KERNEL.name();
  }

  /**
   * Adds {@code dY^T X} into {@code sum}, row-major {@code [out, in]}, for {@code gradOutput} {@code [n, out]} and
   * {@code input} {@code [n, in]}: each value's products in row order, onto the value it had.
   *
   * @throws IllegalArgumentException when the blocks' row counts differ, or {@code sum} is not {@code out * in} long
   */
  public static void addWeightGradient(FloatBlock gradOutput, FloatBlock input, double[] sum) {
    addWeightGradient(gradOutput, input, sum, KERNEL);
  }

  static void addWeightGradient(FloatBlock gradOutput, FloatBlock input, double[] sum, GradientKernel kernel) {
    int rows = gradOutput.rows();
    if (input.rows() != rows) {
      throw new IllegalArgumentException(
          "Cannot compute a weight gradient from " + rows + " rows of gradient and " + input.rows() + " rows of input");
    }
    int out = gradOutput.cols();
    int in = input.cols();
    checkLength("weight gradient", sum, (long) out * in);
    if (rows == 0 || out == 0 || in == 0) {
      return;
    }
    int chunk = chunkRows(rows, Math.max(in, out));
    float[] g = new float[chunk * out];
    float[] x = new float[chunk * in];
    for (int first = 0; first < rows; first += chunk) {
      int count = Math.min(chunk, rows - first);
      gradOutput.readRows(first, count, g, 0);
      input.readRows(first, count, x, 0);
      // sum[o, i] += sum_r g[r, o] * x[r, i]: A = g read as [r][o], the depth being the chunk's rows.
      kernel.addProducts(g, out, 1, x, false, count, out, in, sum, false);
    }
  }

  /**
   * Adds {@code sum_r dY[r, :]} into {@code sum} ({@code [out]}): each value's terms in row order, onto the value it
   * had.
   *
   * @throws IllegalArgumentException when {@code sum} is not {@code out} long
   */
  public static void addBiasGradient(FloatBlock gradOutput, double[] sum) {
    checkLength("bias gradient", sum, gradOutput.cols());
    gradOutput.mapRows(gradOutput, (values, rows, cols, firstRow) -> {
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          sum[c] += values[r * cols + c];
        }
      }
      return false;
    });
  }

  /**
   * Writes {@code dY W} into {@code gradInput} ({@code [n, in]}), for {@code gradOutput} {@code [n, out]} and
   * {@code weight} {@code [out, in]}: each value summed in float64 over the outputs in order and rounded once.
   *
   * @throws IllegalArgumentException when the shapes do not fit
   */
  public static void inputGradient(FloatBlock gradOutput, Tensor weight, FloatBlock gradInput) {
    inputGradient(gradOutput, weight, gradInput, KERNEL);
  }

  static void inputGradient(FloatBlock gradOutput, Tensor weight, FloatBlock gradInput, GradientKernel kernel) {
    int rows = gradOutput.rows();
    int out = gradOutput.cols();
    if (weight.dim() != 2 || weight.size(0) != out || gradInput.rows() != rows
        || gradInput.cols() != weight.size(1)) {
      throw new IllegalArgumentException("Cannot compute an input gradient of shape "
          + Tensor.formatShape(gradInput.rows(), gradInput.cols()) + " from a gradient of shape "
          + Tensor.formatShape(rows, out) + " and a weight of shape " + weight.shapeString());
    }
    int in = gradInput.cols();
    if (rows == 0 || in == 0) {
      return;
    }
    float[] w = kernel.pack(weight.toArray(), out, in);
    int chunk = chunkRows(rows, Math.max(in, out));
    float[] g = new float[chunk * out];
    double[] sums = new double[chunk * in];
    float[] rounded = new float[chunk * in];
    for (int first = 0; first < rows; first += chunk) {
      int count = Math.min(chunk, rows - first);
      gradOutput.readRows(first, count, g, 0);
      // dX[r, i] = sum_o g[r, o] * w[o, i]: A = g read as [o][r], the depth being the outputs.
      kernel.addProducts(g, 1, out, w, true, out, count, in, sums, true);
      for (int i = 0; i < count * in; i++) {
        rounded[i] = (float) sums[i];
      }
      gradInput.writeRows(first, count, rounded, 0);
    }
  }

  private static int chunkRows(int rows, int width) {
    return Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, width)));
  }

  private static void checkLength(String what, double[] sum, long expected) {
    if (sum.length != expected) {
      throw new IllegalArgumentException(
          "Cannot add a " + what + " of " + expected + " values into an array of " + sum.length);
    }
  }
}
