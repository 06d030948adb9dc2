package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;

/**
 * The parameter gradients of {@code y = x W^T + b} for a block of rows: {@code dW = dY^T X} ({@code [out, in]}, a
 * GEMM) and {@code db = sum_r dY[r, :]}. The gradient with respect to {@code x}, {@code dX = dY W}, is the forward
 * kernel's own product with {@code W^T} as the weight ({@code LinearKernels.create(transposed, null)}).
 *
 * <p>{@code dW} is computed on the Vector API where {@link LinearKernels#vectorKernelAvailable()} (float32 fused
 * multiply-adds over chunks of rows, chunks summed in float64), else by the scalar kernel (float64 throughout); each
 * value is rounded to float32 once. Either way the error is within that of torch's float32 GEMM. {@code db} is
 * summed in float64 and rounded once.
 */
public final class LinearGradients {
  /** About this many floats of {@code X} are copied to the heap per chunk of rows (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  private static final WeightGradientKernel KERNEL = LinearKernels.vectorKernelAvailable()
      && LinearKernels.Choice.fromSystemProperty() != LinearKernels.Choice.SCALAR
      ? vectorKernel()
      : new ScalarWeightGradientKernel();

  private LinearGradients() {}

  private static WeightGradientKernel vectorKernel() {
    try {
      return (WeightGradientKernel) Class.forName(LinearGradients.class.getPackageName() + ".VectorWeightGradientKernel")
          .getDeclaredConstructor()
          .newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return new ScalarWeightGradientKernel();
    }
  }

  /** {@code "vector"} or {@code "scalar"}: which kernel {@link #weightGradient} runs in this JVM. */
  public static String weightKernelName() {
    return KERNEL.name();
  }

  /**
   * {@code dW = dY^T X}, row-major {@code [out, in]}, for {@code gradOutput} {@code [n, out]} and {@code input}
   * {@code [n, in]}.
   *
   * @throws IllegalArgumentException when the blocks' row counts differ
   */
  public static float[] weightGradient(FloatBlock gradOutput, FloatBlock input) {
    return weightGradient(gradOutput, input, KERNEL);
  }

  static float[] weightGradient(FloatBlock gradOutput, FloatBlock input, WeightGradientKernel kernel) {
    int rows = gradOutput.rows();
    if (input.rows() != rows) {
      throw new IllegalArgumentException(
          "Cannot compute a weight gradient from " + rows + " rows of gradient and " + input.rows() + " rows of input");
    }
    int out = gradOutput.cols();
    int in = input.cols();
    double[] sum = new double[out * in];
    if (rows > 0 && out > 0 && in > 0) {
      int chunk = Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(in, out)));
      float[] g = new float[chunk * out];
      float[] x = new float[chunk * in];
      for (int first = 0; first < rows; first += chunk) {
        int count = Math.min(chunk, rows - first);
        gradOutput.readRows(first, count, g, 0);
        input.readRows(first, count, x, 0);
        kernel.accumulate(g, x, count, out, in, sum);
      }
    }
    float[] result = new float[out * in];
    for (int i = 0; i < result.length; i++) {
      result[i] = (float) sum[i];
    }
    return result;
  }

  /** {@code db = sum_r dY[r, :]}, {@code [out]}, summed in float64 and rounded once. */
  public static float[] biasGradient(FloatBlock gradOutput) {
    int out = gradOutput.cols();
    double[] sum = new double[out];
    gradOutput.mapRows(gradOutput, (values, rows, cols, firstRow) -> {
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          sum[c] += values[r * cols + c];
        }
      }
      return false;
    });
    float[] result = new float[out];
    for (int c = 0; c < out; c++) {
      result[c] = (float) sum[c];
    }
    return result;
  }
}
