package dev.sparklinear.core.block;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Reuses the buffers of a run of blocks: a block {@linkplain #take taken} from the pool gives its buffer back to the
 * pool when it is closed, and the next {@code take} that fits reuses it instead of allocating. A Spark partition runs a
 * module tree on block after block of the same shape, so after its first block every intermediate and output block
 * comes out of the pool and no Arrow allocation happens per block.
 *
 * <pre>{@code
 * try (BufferAllocator allocator = root.newChildAllocator("partition 3", 0, Long.MAX_VALUE);
 *      BlockPool pool = new BlockPool(allocator)) {
 *   for (...) {
 *     try (FloatBlock y = module.call(x, CallContext.of(rows, 3, blockIndex, firstRow, pool))) { ... }
 *   }
 * }  // the pool frees its buffers, then the allocator checks that nothing leaked
 * }</pre>
 *
 * <p>A take reuses the smallest free buffer that is large enough. When none is, it frees the largest free buffer
 * (which is too small for this shape, and so likely for the next blocks too) and allocates a new one: the pool never
 * holds more buffers than were out at once. A buffer that someone else still holds a reference to when its block is
 * closed (a block {@linkplain FloatBlock#wrap wrapping} it, say) is not reused: the pool lets go of it instead.
 *
 * <p>The owner of the allocator owns the pool and closes it before the allocator; closing frees the free buffers, and
 * a block closed after that frees its own. One pool serves one thread (a Spark task): it is not thread-safe.
 */
public final class BlockPool implements AutoCloseable {
  private final BufferAllocator allocator;
  private final List<ArrowBuf> free = new ArrayList<>();
  private boolean closed;
  private long allocations;

  /** A pool allocating from {@code allocator}, which must outlive it. */
  public BlockPool(BufferAllocator allocator) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
  }

  /** The allocator that new buffers come from. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /**
   * A block of {@code rows x cols} whose values are not initialised (the caller overwrites every value), on a free
   * buffer when one is large enough. The caller closes it, which gives the buffer back.
   *
   * @throws IllegalArgumentException if a size is negative or the block would exceed 2^31-1 values
   * @throws IllegalStateException if the pool is closed
   */
  public FloatBlock take(int rows, int cols) {
    long bytes = FloatBlock.checkedBytes(rows, cols);
    if (closed) {
      throw new IllegalStateException("Cannot take a block from a closed pool");
    }
    if (bytes == 0) {
      return FloatBlock.allocateUninitialized(allocator, rows, cols); // Arrow's shared empty buffer: nothing to reuse
    }
    int best = -1;
    int largest = -1;
    for (int i = 0; i < free.size(); i++) {
      long capacity = free.get(i).capacity();
      if (capacity >= bytes && (best < 0 || capacity < free.get(best).capacity())) {
        best = i;
      }
      if (largest < 0 || capacity > free.get(largest).capacity()) {
        largest = i;
      }
    }
    if (best >= 0) {
      return FloatBlock.pooled(free.remove(best), this, rows, cols);
    }
    if (largest >= 0) {
      free.remove(largest).getReferenceManager().release();
    }
    ArrowBuf buffer = allocator.buffer(bytes);
    allocations++;
    return FloatBlock.pooled(buffer, this, rows, cols);
  }

  /** How many buffers this pool has allocated so far: stays put while blocks of a shape seen before come and go. */
  public long allocations() {
    return allocations;
  }

  /** Called by a pooled block's {@code close()}: keeps {@code buffer} for the next take, or lets go of it. */
  void giveBack(ArrowBuf buffer) {
    if (closed || buffer.refCnt() != 1) {
      // Closed: nobody will take it again. Shared: its other holder still reads it, so it must not be overwritten.
      buffer.getReferenceManager().release();
    } else {
      free.add(buffer);
    }
  }

  /** Frees the free buffers; blocks still out free theirs when closed. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ArrowBuf buffer : free) {
      buffer.getReferenceManager().release();
    }
    free.clear();
  }

  @Override
  public String toString() {
    return "BlockPool(" + free.size() + " free, " + allocations + " allocated" + (closed ? ", closed)" : ")");
  }
}
