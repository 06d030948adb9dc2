package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A block's values in float64, row-major on the heap: what a {@link GradientTape} keeps of each recorded activation,
 * and what flows between modules in its backward pass. Only the gradients a caller sees (parameters' {@code .grad},
 * an input's gradient, the blocks shown to backward hooks) are rounded to float32.
 *
 * <p>A block whose values are float32 values (a tape's input, a hook's replacement) is kept as float32 ({@link
 * #ofFloats}), half the memory, and widened only when asked for {@link #values()}: a {@link Linear} reads it as it is,
 * a chunk of rows at a time, so that the thin first layer of a model does not pay for a float64 copy of its input.
 */
final class Float64Block {
  private final int rows;
  private final int cols;
  /** The float32 values while they are the block's values (made from them, not changed since); else null. */
  private float[] floats;
  /** The float64 values; made from {@link #floats} on first use when the block was made from float32 values. */
  private double[] values;

  Float64Block(double[] values, int rows, int cols) {
    this(values, null, rows, cols);
  }

  private Float64Block(double[] values, float[] floats, int rows, int cols) {
    int length = values != null ? values.length : floats.length;
    if ((long) rows * cols != length) {
      throw new IllegalArgumentException("A block of " + rows + " x " + cols + " values cannot hold an array of "
          + length);
    }
    this.values = values;
    this.floats = floats;
    this.rows = rows;
    this.cols = cols;
  }

  /** The values of {@code block}, kept as float32 until {@link #values()} is asked for. */
  static Float64Block ofFloats(FloatBlock block) {
    return new Float64Block(null, block.toArray(), block.rows(), block.cols());
  }

  /** The values of {@code block} in float64 (each float32 value exactly). */
  static Float64Block of(FloatBlock block) {
    Float64Block exact = ofFloats(block);
    double[] values = exact.values();
    return new Float64Block(values, block.rows(), block.cols());
  }

  int rows() {
    return rows;
  }

  int cols() {
    return cols;
  }

  /**
   * The float64 values, row-major; widened from the float32 ones on first use. Only {@link #add} changes them in
   * place; a caller that wants to changes a {@link #copy()}.
   */
  double[] values() {
    if (values == null) {
      double[] wide = new double[floats.length];
      for (int i = 0; i < wide.length; i++) {
        wide[i] = floats[i];
      }
      values = wide;
    }
    return values;
  }

  /** The float32 values the block was made from ({@link #ofFloats}), or null; not to be changed. */
  float[] floats() {
    return floats;
  }

  /** How many values the block keeps (float32 and float64 forms counted alike): for tests. */
  int kept() {
    return (values != null ? values.length : 0) + (floats != null ? floats.length : 0);
  }

  /** A block of {@code allocator} holding each value rounded once to float32; the caller closes it. */
  FloatBlock round(BufferAllocator allocator) {
    if (floats != null && values == null) {
      return FloatBlock.copyOf(allocator, floats, rows, cols);
    }
    float[] rounded = new float[values.length];
    for (int i = 0; i < rounded.length; i++) {
      rounded[i] = (float) values[i];
    }
    return FloatBlock.copyOf(allocator, rounded, rows, cols);
  }

  /** A copy in float64 that the caller may change. */
  Float64Block copy() {
    return new Float64Block(values().clone(), rows, cols);
  }

  /** Adds {@code other}'s values into this block's, in float64; returns this block. */
  Float64Block add(Float64Block other) {
    double[] sum = values();
    floats = null; // no longer the block's values
    double[] addend = other.values();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += addend[i];
    }
    return this;
  }
}
