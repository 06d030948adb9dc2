package dev.sparklinear.spark;

import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.SparkPlan;

/**
 * Finds, in a query's physical plan, a columnar source (Spark's vectorized Parquet or ORC scan) whose batches can be
 * read directly instead of the rows Spark would make of them.
 *
 * <p>Only the plain shape is taken: a scan turned into rows, possibly under a projection that only picks, reorders or
 * renames columns ({@link PlainProjection}). Anything else (filters, computed columns, non-columnar sources) keeps the
 * row path, which gives the same output. {@code ordinals[i]} is the index in the source's batches of column
 * {@code i} of the wanted rows.
 */
record ColumnarInput(SparkPlan source, int[] ordinals) {
  /** The columnar source of {@code dataset}, or empty when its plan is not the plain shape. */
  static Optional<ColumnarInput> of(Dataset<Row> dataset) {
    Optional<PlainProjection> projection = PlainProjection.of(dataset.queryExecution().executedPlan());
    if (projection.isEmpty() || !(projection.get().source() instanceof ColumnarToRowExec toRows)
        || !toRows.child().supportsColumnar()) {
      return Optional.empty();
    }
    return projection.get().ordinalsIn(toRows.child()).map(ordinals -> new ColumnarInput(toRows.child(), ordinals));
  }
}
