package dev.sparklinear.core.tensor;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable, dense, row-major tensor on the heap: float32, or int64 for integer buffers.
 *
 * <p>Used for parameters, state dicts and the tensors read from weight files: things that are small next to the data
 * and that must be serializable for a Spark broadcast. Immutability is what lets a module pack its weights once for a
 * kernel and share them between threads: replacing a weight means replacing the tensor, never editing it.
 *
 * <pre>{@code
 * Tensor w = Tensor.of(new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}});  // shape [3, 4]
 * Tensor b = Tensor.of(0.5f, -0.5f, 0f);                                           // shape [3]
 * Tensor n = Tensor.ofLong(1234);                                                  // int64, shape []
 * }</pre>
 *
 * <p>An int64 tensor keeps its exact values ({@link #toLongArray()}, {@link #getLong}); its float accessors give the
 * values converted to float32, as {@code tensor.float()} does. Holding both keeps every float reader (kernels, state
 * dict loading into a float parameter) unchanged, and int64 tensors are tiny buffers, so the copy costs nothing.
 */
public class Tensor implements Serializable {
  private static final long serialVersionUID = 1L;

  private final float[] data;
  private final int[] shape;
  /** The exact values of an int64 tensor; null for float32. */
  private final long[] longs;

  /** Copies {@code data}, which holds the values in row-major order for {@code shape}. */
  public Tensor(float[] data, int... shape) {
    this(data.clone(), shape.clone(), true);
  }

  /** Takes ownership of arrays that the caller has just made and will not touch again. */
  protected Tensor(float[] data, int[] shape, boolean owned) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(shape, "shape");
    checkCount(shape, data.length);
    this.data = data;
    this.shape = shape;
    this.longs = null;
  }

  private Tensor(long[] longs, int[] shape) {
    checkCount(shape, longs.length);
    this.data = new float[longs.length];
    for (int i = 0; i < longs.length; i++) {
      data[i] = longs[i];
    }
    this.shape = shape;
    this.longs = longs;
  }

  private static void checkCount(int[] shape, int length) {
    long count = 1;
    for (int dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("Invalid shape: " + Arrays.toString(shape) + " (dimensions must be >= 0)");
      }
      count *= dim;
    }
    if (count != length) {
      throw new IllegalArgumentException(
          "Invalid tensor: shape " + Arrays.toString(shape) + " needs " + count + " values, got " + length);
    }
  }

  /** An int64 scalar (shape {@code []}), as {@code torch.tensor(value)} for an integer. */
  public static Tensor ofLong(long value) {
    return new Tensor(new long[] {value}, new int[0]);
  }

  /** An int64 tensor wrapping an array the caller hands over and will not modify again (no copy). */
  public static Tensor wrapLongs(long[] data, int... shape) {
    return new Tensor(Objects.requireNonNull(data, "data"), shape.clone());
  }

  /** {@link Dtype#INT64} for integer tensors, else {@link Dtype#FLOAT32}. */
  public final Dtype dtype() {
    return longs == null ? Dtype.FLOAT32 : Dtype.INT64;
  }

  /**
   * The values as int64, in row-major order: an int64 tensor's exact values, or a float32 tensor's values truncated
   * toward zero, as {@code tensor.long()} does.
   */
  public final long[] toLongArray() {
    if (longs != null) {
      return longs.clone();
    }
    long[] out = new long[data.length];
    for (int i = 0; i < data.length; i++) {
      out[i] = (long) data[i];
    }
    return out;
  }

  /** The exact value at a flat row-major index of an int64 tensor (a float32 value truncated toward zero). */
  public final long getLong(int flatIndex) {
    return longs != null ? longs[flatIndex] : (long) data[flatIndex];
  }

  /** This tensor's values as {@code dtype}: itself when it already is, else converted as {@code tensor.to(dtype)}. */
  public final Tensor to(Dtype dtype) {
    if (dtype == dtype()) {
      return this;
    }
    return dtype == Dtype.INT64 ? new Tensor(toLongArray(), shape.clone()) : new Tensor(toArray(), shape.clone(), true);
  }

  /** A tensor of shape {@code [values.length]}. */
  public static Tensor of(float... values) {
    return new Tensor(values.clone(), new int[] {values.length}, true);
  }

  /** A tensor of shape {@code [rows.length, rows[0].length]}; every row must have the same length. */
  public static Tensor of(float[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    float[] flat = new float[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != cols) {
        throw new IllegalArgumentException(
            "Invalid matrix: row " + r + " has " + rows[r].length + " values, row 0 has " + cols);
      }
      System.arraycopy(rows[r], 0, flat, r * cols, cols);
    }
    return new Tensor(flat, new int[] {rows.length, cols}, true);
  }

  /** Wraps an array the caller hands over and will not modify again (no copy). */
  public static Tensor wrap(float[] data, int... shape) {
    return new Tensor(data, shape.clone(), true);
  }

  public final int[] shape() {
    return shape.clone();
  }

  public final int dim() {
    return shape.length;
  }

  public final int size(int dim) {
    return shape[dim];
  }

  public final int numel() {
    return data.length;
  }

  /** The value at a flat row-major index. */
  public final float get(int flatIndex) {
    return data[flatIndex];
  }

  /** The value at {@code [row, col]} of a 2-D tensor. */
  public final float get(int row, int col) {
    return data[row * shape[1] + col];
  }

  /** A copy of the values in row-major order. */
  public final float[] toArray() {
    return data.clone();
  }

  /** Copies the values into {@code dst} at {@code offset}. */
  public final void copyTo(float[] dst, int offset) {
    System.arraycopy(data, 0, dst, offset, data.length);
  }

  /** True when both tensors have the same shape. */
  public final boolean sameShape(Tensor other) {
    return Arrays.equals(shape, other.shape);
  }

  /** The shape as PyTorch users read it in messages: {@code [3, 4]}. */
  public final String shapeString() {
    return formatShape(shape);
  }

  public static String formatShape(int... shape) {
    return Arrays.toString(shape);
  }

  /** Equal shape and bit-identical values. */
  @Override
  public boolean equals(Object o) {
    if (o == null || getClass() != o.getClass()) {
      return false;
    }
    Tensor other = (Tensor) o;
    return Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data) && Arrays.equals(longs, other.longs);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + (longs == null ? Arrays.hashCode(data) : Arrays.hashCode(longs));
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("tensor([");
    int shown = Math.min(data.length, 8);
    for (int i = 0; i < shown; i++) {
      sb.append(i == 0 ? "" : ", ").append(longs == null ? String.valueOf(data[i]) : String.valueOf(longs[i]));
    }
    sb.append(shown < data.length ? ", ...], shape=" : "], shape=").append(shapeString());
    return sb.append(longs == null ? ")" : ", dtype=int64)").toString();
  }
}
