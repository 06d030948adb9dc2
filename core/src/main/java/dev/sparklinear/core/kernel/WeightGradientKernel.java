package dev.sparklinear.core.kernel;

/**
 * One step of a Linear layer's weight gradient {@code dW = dY^T X}: adds the contribution of a chunk of rows, held in
 * heap arrays, to a float64 accumulator. {@link LinearGradients} reads the blocks chunk by chunk and picks the
 * implementation: the Vector API one where the vector kernel is available, else the scalar one.
 */
interface WeightGradientKernel {
  /**
   * Adds {@code sum_r gradOutput[r, o] * input[r, i]} over {@code rows} rows to {@code gradWeight[o * in + i]}.
   *
   * @param gradOutput {@code rows x out}, row-major
   * @param input {@code rows x in}, row-major
   * @param gradWeight {@code out x in}, row-major
   */
  void accumulate(float[] gradOutput, float[] input, int rows, int out, int in, double[] gradWeight);

  /** {@code "vector"} or {@code "scalar"}, as {@link LinearKernel#name()}. */
  String name();
}
