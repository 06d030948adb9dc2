package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;

/**
 * Run in a child JVM by {@link VectorLinearKernelTest}: prints which kernel {@link LinearKernels#create} picks there
 * and a product it computes, so that a JVM started without {@code jdk.incubator.vector} can be checked to fall back.
 */
final class KernelChoiceProbe {
  private KernelChoiceProbe() {}

  public static void main(String[] args) {
    LinearKernel kernel = LinearKernels.create(Tensor.of(new float[][] {{1, 2}, {3, 4}}), Tensor.of(0.5f, -0.5f));
    System.out.println("kernel=" + kernel.name() + " available=" + LinearKernels.vectorKernelAvailable());
  }
}
