package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;

/**
 * What a hook or {@code forward} knows about the call it is part of: the block's row count, where the block comes
 * from (partition id, block index and the index of its first row within the partition, when a Spark job runs the
 * module) and the allocator that outputs are taken from.
 *
 * <p>Immutable, so a hook can keep it or hand it to another thread. Hooks use it to do per-block work (counting,
 * statistics keyed by partition) without global state.
 */
public record CallContext(int rows, int partitionId, long blockIndex, long firstRow, BufferAllocator allocator) {
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
   */
  public CallContext {
    Objects.requireNonNull(allocator, "allocator");
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
        + (firstRow == UNKNOWN ? "" : ", firstRow=" + firstRow) + ")";
  }
}
