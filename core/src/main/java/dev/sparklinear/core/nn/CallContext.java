package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.BlockPool;
import dev.sparklinear.core.block.FloatBlock;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;

/**
 * What a hook or {@code forward} knows about the call it is part of: the block's row count, where the block comes
 * from (partition id, block index and the index of its first row within the partition, when a Spark job runs the
 * module) and where outputs are taken from: {@link #allocate}, which reuses the buffers of earlier blocks when the
 * context has a {@link BlockPool} (a job's partitions do), and allocates from {@link #allocator()} otherwise.
 *
 * <p>Immutable, so a hook can keep it or hand it to another thread. Hooks use it to do per-block work (counting,
 * statistics keyed by partition) without global state.
 *
 * <p>A context {@link #withTape with a tape} records every {@code call} made with it for a backward pass (see
 * {@link GradientTape}); without one (a job's path, and the default) nothing is recorded and nothing is spent.
 */
public record CallContext(
    int rows, int partitionId, long blockIndex, long firstRow, BufferAllocator allocator, BlockPool pool,
    GradientTape tape) {
  /** The partition id and block index of a call made outside a Spark job. */
  public static final int UNKNOWN = -1;

  /**
   * @param rows rows in the block the call was made with
   * @param partitionId the Spark partition id, or {@link #UNKNOWN}
   * @param blockIndex the block's index within its partition (0, 1, ...), or {@link #UNKNOWN}
   * @param firstRow the index within its partition of the block's first row (0, ...), or {@link #UNKNOWN}: row
   *     {@code r} of the block is row {@code firstRow + r} of the partition. Blocks end at a row or a byte limit, so
   *     this is not {@code blockIndex * rows}.
   * @param allocator where modules and hooks allocate the blocks they return; the caller of {@code call} closes those
   * @param pool where {@link #allocate} takes blocks from, or null to allocate each from {@code allocator}
   * @param tape the tape that records calls for a backward pass, or null: no recording, as under torch's
   *     {@code no_grad}
   */
  public CallContext {
    Objects.requireNonNull(allocator, "allocator");
  }

  /** A context that records nothing. */
  public CallContext(
      int rows, int partitionId, long blockIndex, long firstRow, BufferAllocator allocator, BlockPool pool) {
    this(rows, partitionId, blockIndex, firstRow, allocator, pool, null);
  }

  /** A context without a pool: every block a module returns is a new allocation. */
  public CallContext(int rows, int partitionId, long blockIndex, long firstRow, BufferAllocator allocator) {
    this(rows, partitionId, blockIndex, firstRow, allocator, null, null);
  }

  /** This context recording into {@code tape}, or recording nothing when {@code tape} is null. */
  public CallContext withTape(GradientTape tape) {
    return new CallContext(rows, partitionId, blockIndex, firstRow, allocator, pool, tape);
  }

  /**
   * A context for block {@code blockIndex} of Spark partition {@code partitionId} whose first row is row
   * {@code firstRow} of the partition, taking output blocks from {@code pool} (and so allocating from its allocator).
   */
  public static CallContext of(int rows, int partitionId, long blockIndex, long firstRow, BlockPool pool) {
    return new CallContext(rows, partitionId, blockIndex, firstRow, pool.allocator(), pool);
  }

  /**
   * A block of {@code rows x cols} for a module's (or a hook's) output, values not initialised: from the pool when
   * the context has one, else a new allocation from {@link #allocator()}. The caller of {@code call} closes it.
   */
  public FloatBlock allocate(int rows, int cols) {
    return pool == null ? FloatBlock.allocateUninitialized(allocator, rows, cols) : pool.take(rows, cols);
  }

  /**
   * {@link #allocate} a block and has {@code writer} write every value of it; the block is closed here when
   * {@code writer} throws, so a failed computation leaks nothing (and a pooled buffer goes back to the pool).
   */
  public FloatBlock allocateAndWrite(int rows, int cols, Consumer<FloatBlock> writer) {
    return FloatBlock.writeOrClose(allocate(rows, cols), writer);
  }

  /** A context for a call on {@code input} outside a job: outputs come from the input's allocator. */
  public static CallContext of(FloatBlock input) {
    return new CallContext(input.rows(), UNKNOWN, UNKNOWN, UNKNOWN, input.allocator());
  }

  /** A context for block {@code blockIndex} of Spark partition {@code partitionId}, allocating from {@code allocator}. */
  public static CallContext of(int rows, int partitionId, long blockIndex, BufferAllocator allocator) {
    return new CallContext(rows, partitionId, blockIndex, UNKNOWN, allocator);
  }

  /**
   * A context for block {@code blockIndex} of Spark partition {@code partitionId} whose first row is row
   * {@code firstRow} of the partition (counting from 0), allocating from {@code allocator}.
   */
  public static CallContext of(int rows, int partitionId, long blockIndex, long firstRow, BufferAllocator allocator) {
    return new CallContext(rows, partitionId, blockIndex, firstRow, allocator);
  }

  @Override
  public String toString() {
    return "CallContext(rows=" + rows + ", partition=" + partitionId + ", block=" + blockIndex
        + (firstRow == UNKNOWN ? "" : ", firstRow=" + firstRow) + (tape == null ? "" : ", recording") + ")";
  }
}
