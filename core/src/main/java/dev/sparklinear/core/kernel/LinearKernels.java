package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;

/** Chooses the kernel for a weight: the one place that knows which kernels exist. */
public final class LinearKernels {
  private LinearKernels() {}

  /**
   * The fastest kernel available on this JVM for {@code weight} ({@code [out, in]}) and {@code bias} ({@code [out]} or
   * null).
   */
  public static LinearKernel create(Tensor weight, Tensor bias) {
    return new BlockedLinearKernel(weight, bias);
  }
}
