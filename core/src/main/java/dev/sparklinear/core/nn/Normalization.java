package dev.sparklinear.core.nn;

import dev.sparklinear.core.tensor.Tensor;
import java.util.Arrays;
import java.util.Optional;

/**
 * What LayerNorm and BatchNorm1d share: {@code eps}, added to the variance inside the square root, and an optional
 * elementwise affine map whose weight starts at ones and bias at zeros, as PyTorch initialises both.
 */
abstract class Normalization extends RowwiseModule {
  private static final long serialVersionUID = 1L;

  private final double eps;

  Normalization(double eps) {
    this.eps = eps;
  }

  /** Registers {@code weight} (ones) and, when {@code bias}, {@code bias} (zeros), both {@code [features]}. */
  final void registerAffine(int features, boolean bias) {
    registerParameter("weight", new Parameter(Tensor.wrap(ones(features), features)));
    if (bias) {
      registerParameter("bias", new Parameter(Tensor.wrap(new float[features], features)));
    }
  }

  static float[] ones(int count) {
    float[] ones = new float[count];
    Arrays.fill(ones, 1f);
    return ones;
  }

  public final double eps() {
    return eps;
  }

  /** The weight, one value per feature; empty for a layer without an affine map. */
  public final Optional<Parameter> weight() {
    return Optional.ofNullable(parameter("weight"));
  }

  /** The bias, one value per feature; empty for a layer without an affine map or without a bias. */
  public final Optional<Parameter> bias() {
    return Optional.ofNullable(parameter("bias"));
  }
}
