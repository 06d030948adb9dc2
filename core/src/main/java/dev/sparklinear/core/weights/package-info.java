/**
 * Readers of weight files written by PyTorch and NumPy: safetensors ({@link dev.sparklinear.core.weights.SafetensorsReader})
 * and {@code .npy} ({@link dev.sparklinear.core.weights.NpyReader}), and the safetensors writer
 * ({@link dev.sparklinear.core.weights.SafetensorsWriter}). They take bytes or streams, never a file system.
 */
package dev.sparklinear.core.weights;
