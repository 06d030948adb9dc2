package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** Where the layer's parameters come from ({@code module.weights.format}). */
public enum WeightsFormat implements ConfigEnum {
  /** The matrix and bias are written in the config itself ({@code module.weights.weight}, {@code .bias}). */
  INLINE,
  /** A safetensors file ({@code module.weights.path}) holding {@code <prefix>weight} and {@code <prefix>bias}. */
  SAFETENSORS,
  /** NumPy {@code .npy} files: the weight at {@code module.weights.path}, the bias at {@code module.weights.bias-path}. */
  NPY;
}
