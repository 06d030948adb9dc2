package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;

/**
 * A prepared affine map {@code y = x W^T + b} for one fixed weight and bias.
 *
 * <p>A kernel is made once per weight (it may pack the weight into whatever layout it computes fastest on) and is then
 * applied to many blocks, from many threads at once: implementations keep no per-call state in fields.
 *
 * <p><b>Summation order.</b> Every implementation computes each output {@code y[r][o]} with the same float32
 * operations in the same order, so that all of them give the same bits, whatever the block size, the rows around it or
 * the JDK (the scalar kernel with {@code Math.fma}, the vector kernel with lane-wise {@code fma}; both are exact
 * products rounded once). With {@code n = in}:
 *
 * <ol>
 *   <li>The inputs are split into {@code C = ceil(n / L)} contiguous chains of {@code L} inputs (the last may be
 *       shorter): {@code L = 32} for {@code n <= 128}, else {@code L = 4 * ceil(n / 16)}, so {@code C <= 4}.
 *   <li>Chain 0 starts at the bias {@code b[o]} ({@code +0.0} without a bias), every other chain at {@code +0.0}. Each
 *       chain {@code j}, for {@code k} from {@code j L} up, in order, does {@code c = fma(x[r][k], W[o][k], c)}.
 *   <li>The chains are combined pairwise: {@code c0} (C = 1), {@code c0 + c1} (C = 2), {@code (c0 + c1) + c2}
 *       (C = 3), {@code (c0 + c1) + (c2 + c3)} (C = 4). Chains that would cover no input do not exist, and nothing
 *       else is added.
 * </ol>
 *
 * <p>Why: one chain of {@code n} multiply-adds, PyTorch's order on this project's CPUs, has the error bound
 * {@code gamma(n + 1) * (|b| + sum_k |x_k W_k|)} with {@code gamma(m) ~ m 2^-24}; four chains of {@code n / 4} have
 * {@code gamma(n / 4 + 5)}, and in practice about half the error (the errors of a chain grow with its partial sums,
 * which four short chains keep small). The vector kernel keeps one accumulator per row and vector of outputs, and runs
 * the chains one after another. Chains start at 32 inputs because each chain after the first costs an addition per
 * output on the ports the multiply-adds use (shorter chains cost more than the 5% of a call this order may cost), and
 * one chain of 32 is already within PyTorch's bound. Where the chains begin and end is
 * decided by {@code SummationOrder}; the tests compare the two kernels' outputs bit for bit, and their error with
 * PyTorch's on the fixtures of {@code torch-parity/exactness.json}.
 */
public interface LinearKernel {

  int inFeatures();

  int outFeatures();

  /**
   * Which implementation this is, for logs and run summaries: {@code "vector"} (the Vector API kernel) or
   * {@code "scalar"} (the portable one).
   */
  String name();

  /**
   * Writes {@code x W^T + b} into {@code y}. The caller has checked that {@code x} has {@link #inFeatures()} columns
   * and that {@code y} has as many rows as {@code x} and {@link #outFeatures()} columns; every value of {@code y} is
   * overwritten.
   */
  default void apply(FloatBlock x, FloatBlock y) {
    apply(x, y, null);
  }

  /**
   * Writes {@code epilogue(x W^T + b)} into {@code y}: as {@link #apply(FloatBlock, FloatBlock)}, with
   * {@code epilogue} (when not null) applied to each tile of outputs before it is stored.
   */
  void apply(FloatBlock x, FloatBlock y, Epilogue epilogue);
}
