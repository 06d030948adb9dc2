package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;

/**
 * A prepared affine map {@code y = x W^T + b} for one fixed weight and bias.
 *
 * <p>A kernel is made once per weight (it may pack the weight into whatever layout it computes fastest on) and is then
 * applied to many blocks, from many threads at once: implementations keep no per-call state in fields.
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
