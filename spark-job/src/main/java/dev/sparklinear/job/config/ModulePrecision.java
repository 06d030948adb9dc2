package dev.sparklinear.job.config;

import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.spark.ConfigEnum;

/** How exactly the Linear layers of the module compute their float32 outputs ({@code module.precision}). */
public enum ModulePrecision implements ConfigEnum {
  /** Float32 multiply-adds: the vector kernel, or the scalar one ({@link LinearKernels.Precision#FLOAT32}). */
  FLOAT32,
  /**
   * Compensated dot products, within about half an ulp of the exact value, at several times the cost
   * ({@link LinearKernels.Precision#COMPENSATED}).
   */
  COMPENSATED;

  /** The kernel precision of {@code dev.sparklinear.core} this config value stands for. */
  public LinearKernels.Precision kernelPrecision() {
    return switch (this) {
      case FLOAT32 -> LinearKernels.Precision.FLOAT32;
      case COMPENSATED -> LinearKernels.Precision.COMPENSATED;
    };
  }
}
