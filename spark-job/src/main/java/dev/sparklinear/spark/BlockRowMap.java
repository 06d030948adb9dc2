package dev.sparklinear.spark;

/**
 * Which feature row of the block each output row shows. Row id {@code first + r} (row {@code r} of the block) shows
 * feature row {@code r} until an invalid row turns the map on; from then on {@link #blockRowOf} gives, per row of the
 * block, its feature row, {@link #NULL_OUTPUT} or {@link #DROPPED}. The partition runner fills it; the output columns
 * read it.
 */
final class BlockRowMap {
  static final int NULL_OUTPUT = -1;
  static final int DROPPED = -2;

  final int[] blockRowOf;
  /** Row id of the block's first row in the batch that shows it. */
  int first;
  /** Rows in the block. */
  int rows;
  boolean mapped;

  BlockRowMap(int capacity) {
    this.blockRowOf = new int[capacity];
  }

  /** The feature row that row id {@code rowId} shows (negative for a null output). */
  int blockRow(int rowId) {
    return mapped ? blockRowOf[rowId - first] : rowId - first;
  }

  boolean isNull(int rowId) {
    return mapped && blockRowOf[rowId - first] < 0;
  }

  boolean isDropped(int rowId) {
    return mapped && blockRowOf[rowId - first] == DROPPED;
  }

  /** The row id that shows feature row {@code blockRow}. */
  int rowIdOf(int blockRow) {
    for (int r = 0; mapped && r < rows; r++) {
      if (blockRowOf[r] == blockRow) {
        return first + r;
      }
    }
    return first + blockRow;
  }
}
