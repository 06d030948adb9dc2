package dev.sparklinear.core.tensor;

/**
 * The element type of a {@link Tensor}: float32 for parameters and most buffers, int64 for integer buffers such as
 * {@code BatchNorm1d.num_batches_tracked}, which PyTorch stores as {@code torch.int64} and saves as {@code I64}.
 */
public enum Dtype {
  /** {@code torch.float32}. */
  FLOAT32,
  /** {@code torch.int64}. */
  INT64
}
