package dev.sparklinear.core.hooks;

import dev.sparklinear.core.hooks.BlockHook.Target;
import dev.sparklinear.core.nn.CallContext;

/**
 * Thrown by {@link NanGuard} with action {@link NanGuard.Action#FAIL} at the first NaN or infinity it meets. It names
 * the value, whether it was in the module's inputs or outputs, the row and column, and where the row came from as far
 * as the {@link CallContext} tells: the partition, the row's index within the partition, and the block. A job that
 * knows more about the row (its key, its file) adds that with {@link #withRowKey}.
 */
public final class NonFiniteValueException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final float value;
  private final Target target;
  private final int rowInBlock;
  private final int column;
  private final int partitionId;
  private final long blockIndex;
  private final long firstRow;
  private final String rowKey;

  NonFiniteValueException(float value, Target target, int rowInBlock, int column, CallContext context) {
    this(value, target, rowInBlock, column, context.partitionId(), context.blockIndex(), context.firstRow(), null);
  }

  private NonFiniteValueException(float value, Target target, int rowInBlock, int column, int partitionId,
      long blockIndex, long firstRow, String rowKey) {
    super(message(value, target, rowInBlock, column, partitionId, blockIndex, firstRow, rowKey));
    this.value = value;
    this.target = target;
    this.rowInBlock = rowInBlock;
    this.column = column;
    this.partitionId = partitionId;
    this.blockIndex = blockIndex;
    this.firstRow = firstRow;
    this.rowKey = rowKey;
  }

  private static String message(float value, Target target, int rowInBlock, int column, int partitionId,
      long blockIndex, long firstRow, String rowKey) {
    StringBuilder sb = new StringBuilder("Non-finite value ").append(value).append(" in the module's ").append(target)
        .append(" at ");
    boolean inJob = partitionId != CallContext.UNKNOWN;
    if (inJob && firstRow != CallContext.UNKNOWN) {
      sb.append("row ").append(firstRow + rowInBlock).append(" of partition ").append(partitionId);
    } else if (inJob) {
      sb.append("row ").append(rowInBlock).append(" of block ").append(blockIndex).append(" of partition ")
          .append(partitionId);
    } else {
      sb.append("row ").append(rowInBlock).append(" of the block");
    }
    if (rowKey != null && !rowKey.isEmpty()) {
      sb.append(' ').append(rowKey);
    }
    sb.append(", column ").append(column);
    if (inJob && firstRow != CallContext.UNKNOWN) {
      sb.append(" (row ").append(rowInBlock).append(" of block ").append(blockIndex).append(')');
    }
    return sb.append(". The nan-guard hook fails on NaN and infinities; set its action to replace to write"
        + " replacement values instead, or repair the data").toString();
  }

  /**
   * The same failure with {@code rowKey} (for example {@code (id=42) in part-00000.parquet}) placed after the row
   * number in the message.
   */
  public NonFiniteValueException withRowKey(String rowKey) {
    NonFiniteValueException e = new NonFiniteValueException(
        value, target, rowInBlock, column, partitionId, blockIndex, firstRow, rowKey);
    e.setStackTrace(getStackTrace());
    return e;
  }

  /** Whether it was in the module's inputs (a pre-hook) or outputs (a forward hook). */
  public Target target() {
    return target;
  }

  /** The row's index within its block. */
  public int rowInBlock() {
    return rowInBlock;
  }

  public int column() {
    return column;
  }

  /** The row's index within its partition, or {@link CallContext#UNKNOWN}. */
  public long rowInPartition() {
    return firstRow == CallContext.UNKNOWN ? CallContext.UNKNOWN : firstRow + rowInBlock;
  }
}
