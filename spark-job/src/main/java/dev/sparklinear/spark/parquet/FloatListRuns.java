package dev.sparklinear.spark.parquet;

import dev.sparklinear.core.block.FloatBlock;
import java.util.Iterator;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Rows whose {@code array<float>} column at {@link #listOrdinal()} comes in runs: the lists of a run of consecutive
 * rows, none null, are consecutive rows of one {@link FloatBlock}, a list per block row. The
 * columnar writer copies a run's values into its page in one bulk copy and appends its levels as runs, instead of
 * taking each row's list on its own; rows outside runs it takes one by one.
 *
 * <p>A partition of {@code ModuleTransformer}'s output with the {@code array} layout is such an iterator (the module's
 * output block); the writer looks for one in the rows it is given and otherwise writes row by row.
 *
 * <pre>{@code
 * while (rows.hasNext()) {
 *   int run = rows.runLength();
 *   if (run > 0) {
 *     copy(rows.runBlock(), rows.runFirstRow(), run);  // then take the run's rows with next()
 *   }
 *   ...
 * }
 * }</pre>
 */
public interface FloatListRuns extends Iterator<InternalRow> {
  /** The list column's ordinal in the rows, or -1 when these rows have none in runs ({@link #runLength()} is then 0). */
  int listOrdinal();

  /**
   * After {@code hasNext()} returned true: how many rows, from the next one on, form a run, or 0 when the next row's
   * list is in none (a null output, say). The run's values stay where {@link #runBlock()} shows them until the next
   * {@code hasNext()} after its last row was taken with {@code next()}.
   */
  int runLength();

  /** The block that holds the current run's lists, one per block row; the iterator's own: not to be closed. */
  FloatBlock runBlock();

  /** The block row that holds the next row's list, the first of the run. */
  int runFirstRow();
}
