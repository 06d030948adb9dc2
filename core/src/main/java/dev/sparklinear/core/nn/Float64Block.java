package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A block's values in float64, row-major on the heap: what a {@link GradientTape} keeps of each recorded activation,
 * and what flows between modules in its backward pass. Only the gradients a caller sees (parameters' {@code .grad},
 * an input's gradient, the blocks a backward hook is shown) are rounded to float32.
 */
record Float64Block(double[] values, int rows, int cols) {
  Float64Block {
    if ((long) rows * cols != values.length) {
      throw new IllegalArgumentException(
          "A block of " + rows + " x " + cols + " values cannot hold an array of " + values.length);
    }
  }

  /** The float64 values of {@code block} (each float32 value exactly). */
  static Float64Block of(FloatBlock block) {
    int rows = block.rows();
    int cols = block.cols();
    double[] values = new double[rows * cols];
    block.mapRows(block, (chunk, chunkRows, chunkCols, firstRow) -> {
      int offset = firstRow * chunkCols;
      for (int i = 0; i < chunkRows * chunkCols; i++) {
        values[offset + i] = chunk[i];
      }
      return false;
    });
    return new Float64Block(values, rows, cols);
  }

  /** A block of {@code allocator} holding each value rounded once to float32; the caller closes it. */
  FloatBlock round(BufferAllocator allocator) {
    float[] rounded = new float[values.length];
    for (int i = 0; i < rounded.length; i++) {
      rounded[i] = (float) values[i];
    }
    return FloatBlock.copyOf(allocator, rounded, rows, cols);
  }

  Float64Block copy() {
    return new Float64Block(values.clone(), rows, cols);
  }

  /** Adds {@code other}'s values into this block's, in float64; returns this block. */
  Float64Block add(Float64Block other) {
    for (int i = 0; i < values.length; i++) {
      values[i] += other.values[i];
    }
    return this;
  }
}
