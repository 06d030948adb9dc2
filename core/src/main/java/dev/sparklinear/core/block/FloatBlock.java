package dev.sparklinear.core.block;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.Consumer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A block of {@code rows} x {@code cols} float32 values, row-major and little-endian, in Arrow memory.
 *
 * <p>This is the unit of work of every module: a batch of feature vectors in, a batch of outputs out. Its layout is
 * exactly the data buffer of an Arrow {@code FixedSizeListVector<Float4Vector>} (or of a {@code ListVector} whose rows
 * all have the same width), so a block can {@linkplain #wrap wrap} such a buffer without copying.
 *
 * <p><b>Ownership.</b> A block holds one reference to its buffer and gives it back on {@link #close()}. Whoever
 * creates a block with {@link #allocate}, {@link #copyOf}, {@link #wrap} or {@link BlockPool#take} closes it; a
 * module's {@code call} returns a new block that its caller closes. Closing a block taken from a pool gives its buffer
 * back to the pool for the next block. Closing twice is harmless. Blocks are not thread-safe; a block belongs to one task.
 *
 * <pre>{@code
 * try (BufferAllocator allocator = new RootAllocator();
 *      FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, 2, 3, 4}})) {
 *   float first = x.get(0, 0);
 * }
 * }</pre>
 */
public final class FloatBlock implements AutoCloseable {
  /** Bytes per float32 value. */
  public static final int BYTES = Float.BYTES;

  /** {@link #mapRows} copies about this many floats to the heap at a time (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  /** Rewrites rows of a block held in a heap array; see {@link #mapRows}. */
  @FunctionalInterface
  public interface RowChunkFunction {
    /**
     * Rewrites {@code rows} rows of {@code cols} values, row-major at the start of {@code values}; they are rows
     * {@code firstRow ..} of the block.
     *
     * @return whether any value was changed (false spares the copy back when the target is the block itself)
     */
    boolean apply(float[] values, int rows, int cols, int firstRow);
  }

  private final ArrowBuf buffer;
  /** Kept, not read from the buffer: Arrow's shared empty buffer belongs to no allocator of the caller's. */
  private final BufferAllocator allocator;
  private final int rows;
  private final int cols;
  /** The pool that {@link #close()} gives the buffer back to, or null: then it releases it. */
  private final BlockPool pool;
  private boolean closed;
  /**
   * A view of the whole block, made on first bulk copy and kept: Arrow makes each NIO view through a reflective
   * constructor, which costs more than copying a small tile. Null while not made, or when the block is over 2 GiB.
   */
  private FloatBuffer view;

  private FloatBlock(ArrowBuf buffer, BufferAllocator allocator, int rows, int cols) {
    this(buffer, allocator, rows, cols, null);
  }

  private FloatBlock(ArrowBuf buffer, BufferAllocator allocator, int rows, int cols, BlockPool pool) {
    this.buffer = buffer;
    this.allocator = allocator;
    this.rows = rows;
    this.cols = cols;
    this.pool = pool;
  }

  /** A block on a buffer of {@code pool}'s, which {@link #close()} gives back to it. */
  static FloatBlock pooled(ArrowBuf buffer, BlockPool pool, int rows, int cols) {
    return new FloatBlock(buffer, pool.allocator(), rows, cols, pool);
  }

  /**
   * Allocates a zero-filled block from {@code allocator}. The caller closes it.
   *
   * @throws IllegalArgumentException if a size is negative or the block would exceed 2^31-1 values
   */
  public static FloatBlock allocate(BufferAllocator allocator, int rows, int cols) {
    long bytes = checkedBytes(rows, cols);
    ArrowBuf buffer = allocator.buffer(bytes);
    buffer.setZero(0, bytes);
    return new FloatBlock(buffer, allocator, rows, cols);
  }

  /**
   * Allocates a block whose values are not initialised, for a caller that overwrites every value (a kernel's output).
   * The caller closes it.
   */
  public static FloatBlock allocateUninitialized(BufferAllocator allocator, int rows, int cols) {
    return new FloatBlock(allocator.buffer(checkedBytes(rows, cols)), allocator, rows, cols);
  }

  /**
   * Allocates an uninitialised block and has {@code writer} write every value of it: the block is returned to the
   * caller, who closes it, or closed here when {@code writer} throws, so a failed computation leaks nothing.
   */
  public static FloatBlock allocateAndWrite(
      BufferAllocator allocator, int rows, int cols, Consumer<FloatBlock> writer) {
    return writeOrClose(allocateUninitialized(allocator, rows, cols), writer);
  }

  /** Has {@code writer} write {@code block} and returns it; closes it when {@code writer} throws. */
  public static FloatBlock writeOrClose(FloatBlock block, Consumer<FloatBlock> writer) {
    try {
      writer.accept(block);
      return block;
    } catch (RuntimeException | Error e) {
      block.close();
      throw e;
    }
  }

  /**
   * Wraps the first {@code rows * cols} floats of an existing buffer without copying. The block takes a reference of
   * its own (the caller still owns and releases the one it had), so the buffer stays valid until both are released.
   * Use {@link ArrowBuf#slice(long, long)} first to start at another offset.
   */
  public static FloatBlock wrap(ArrowBuf buffer, int rows, int cols) {
    long bytes = checkedBytes(rows, cols);
    if (buffer.capacity() < bytes) {
      throw new IllegalArgumentException(
          "Cannot wrap a buffer of " + buffer.capacity() + " bytes as a " + rows + "x" + cols + " block ("
              + bytes + " bytes needed)");
    }
    buffer.getReferenceManager().retain();
    return new FloatBlock(buffer, buffer.getReferenceManager().getAllocator(), rows, cols);
  }

  /** Copies row-major {@code values} into a new block of {@code rows x cols}. The caller closes it. */
  public static FloatBlock copyOf(BufferAllocator allocator, float[] values, int rows, int cols) {
    long bytes = checkedBytes(rows, cols);
    if (values.length != (long) rows * cols) {
      throw new IllegalArgumentException(
          "Cannot make a " + rows + "x" + cols + " block from " + values.length + " values");
    }
    ArrowBuf buffer = allocator.buffer(bytes);
    FloatBlock block = new FloatBlock(buffer, allocator, rows, cols);
    block.writeRows(0, rows, values, 0);
    return block;
  }

  /** Copies equal-length {@code rows} into a new block. The caller closes it. */
  public static FloatBlock copyOf(BufferAllocator allocator, float[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    float[] flat = new float[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != cols) {
        throw new IllegalArgumentException(
            "Cannot make a block from rows of different lengths: row " + r + " has " + rows[r].length
                + " values, row 0 has " + cols);
      }
      System.arraycopy(rows[r], 0, flat, r * cols, cols);
    }
    return copyOf(allocator, flat, rows.length, cols);
  }

  /** A one-row block holding {@code vector}. The caller closes it. */
  public static FloatBlock ofRow(BufferAllocator allocator, float... vector) {
    return copyOf(allocator, vector, 1, vector.length);
  }

  static long checkedBytes(int rows, int cols) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException("Invalid block size: " + rows + "x" + cols + " (must be >= 0)");
    }
    long values = (long) rows * cols;
    if (values > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Invalid block size: " + rows + "x" + cols + " (more than " + Integer.MAX_VALUE + " values)");
    }
    return values * BYTES;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  /** The allocator this block's memory is accounted to; modules allocate their outputs from it by default. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /**
   * The underlying buffer, for kernels and the Arrow bridge. Not retained: valid while this block is open.
   */
  public ArrowBuf buffer() {
    return buffer;
  }

  public float get(int row, int col) {
    checkIndex(row, col);
    return buffer.getFloat(((long) row * cols + col) * BYTES);
  }

  public void set(int row, int col, float value) {
    checkIndex(row, col);
    buffer.setFloat(((long) row * cols + col) * BYTES, value);
  }

  /** A copy of one row. */
  public float[] row(int row) {
    float[] out = new float[cols];
    readRows(row, 1, out, 0);
    return out;
  }

  /** A row-major copy of the whole block. */
  public float[] toArray() {
    float[] out = new float[rows * cols];
    readRows(0, rows, out, 0);
    return out;
  }

  /** A copy of the block as one array per row. */
  public float[][] toRows() {
    float[][] out = new float[rows][];
    for (int r = 0; r < rows; r++) {
      out[r] = row(r);
    }
    return out;
  }

  /** Bulk-copies {@code count} rows starting at {@code firstRow} into {@code dst} at {@code dstOffset}. */
  public void readRows(int firstRow, int count, float[] dst, int dstOffset) {
    checkRows(firstRow, count);
    FloatBuffer whole = view();
    if (whole != null) {
      whole.get(firstRow * cols, dst, dstOffset, count * cols);
    } else {
      floats(firstRow, count).get(dst, dstOffset, count * cols);
    }
  }

  /** Bulk-copies {@code count} rows from {@code src} at {@code srcOffset} into this block starting at {@code firstRow}. */
  public void writeRows(int firstRow, int count, float[] src, int srcOffset) {
    checkRows(firstRow, count);
    FloatBuffer whole = view();
    if (whole != null) {
      whole.put(firstRow * cols, src, srcOffset, count * cols);
    } else {
      floats(firstRow, count).put(src, srcOffset, count * cols);
    }
  }

  /**
   * Runs {@code function} over this block a chunk of rows at a time, through one heap array taken per call, and
   * writes each chunk into the same rows of {@code target}: another block of the same size (a module's output), or
   * this block itself (a hook rewriting in place; then an unchanged chunk is not copied back).
   *
   * @throws IllegalArgumentException when {@code target} is not {@code rows x cols}
   */
  public void mapRows(FloatBlock target, RowChunkFunction function) {
    if (target.rows != rows || target.cols != cols) {
      throw new IllegalArgumentException("Cannot map a " + rows + "x" + cols + " block into a " + target.rows + "x"
          + target.cols + " block");
    }
    if (rows == 0 || cols == 0) {
      return;
    }
    int chunkRows = Math.max(1, Math.min(rows, CHUNK_VALUES / cols));
    float[] values = new float[chunkRows * cols];
    for (int first = 0; first < rows; first += chunkRows) {
      int count = Math.min(chunkRows, rows - first);
      readRows(first, count, values, 0);
      if (function.apply(values, count, cols, first) || target != this) {
        target.writeRows(first, count, values, 0);
      }
    }
  }

  /** The whole block as one float view, or null when it is too large for one NIO buffer. */
  private FloatBuffer view() {
    FloatBuffer whole = view;
    if (whole == null && (long) rows * cols * BYTES <= Integer.MAX_VALUE) {
      whole = floats(0, rows);
      view = whole;
    }
    return whole;
  }

  private FloatBuffer floats(int firstRow, int count) {
    long start = (long) firstRow * cols * BYTES;
    int length = count * cols * BYTES;
    return buffer.nioBuffer(start, length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
  }

  private void checkIndex(int row, int col) {
    if (row < 0 || row >= rows || col < 0 || col >= cols) {
      throw new IndexOutOfBoundsException(
          "Index [" + row + ", " + col + "] is out of bounds for a " + rows + "x" + cols + " block");
    }
  }

  private void checkRows(int firstRow, int count) {
    if (firstRow < 0 || count < 0 || firstRow + count > rows) {
      throw new IndexOutOfBoundsException(
          "Rows [" + firstRow + ", " + (firstRow + count) + ") are out of bounds for a block of " + rows + " rows");
    }
  }

  /** Gives back this block's reference to its buffer: to its {@link BlockPool} if it came from one. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      if (pool != null) {
        pool.giveBack(buffer);
      } else {
        buffer.getReferenceManager().release();
      }
    }
  }

  @Override
  public String toString() {
    int shown = Math.min(rows, 3);
    StringBuilder sb = new StringBuilder("FloatBlock(").append(rows).append('x').append(cols);
    for (int r = 0; r < shown; r++) {
      sb.append(r == 0 ? ": " : ", ").append(Arrays.toString(row(r)));
    }
    return sb.append(shown < rows ? ", ...)" : ")").toString();
  }
}
