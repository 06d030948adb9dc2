package dev.sparklinear.spark.parquet;

import dev.sparklinear.spark.PlainProjection;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.RDDScanExec;

/**
 * The rows of a DataFrame to write, and where each written column sits in them.
 *
 * <p>A DataFrame made from an RDD of rows ({@code ModuleTransformer}'s output is one) is planned as a scan of that RDD
 * under a projection that copies every row into Spark's binary row format, arrays included. When the plan is just
 * that, possibly under a projection that only picks, reorders or renames columns (as adding column metadata does),
 * the writer reads the RDD's own rows and skips the copy ({@code direct}). Any other plan gives Spark's rows.
 * {@code ordinals[i]} is the position in the rows of written column {@code i}.
 */
record RowSource(RDD<InternalRow> rows, int[] ordinals, boolean direct) {
  static RowSource of(Dataset<Row> data) {
    Optional<PlainProjection> projection = PlainProjection.of(data.queryExecution().executedPlan());
    if (projection.isPresent() && projection.get().source() instanceof RDDScanExec scan) {
      Optional<int[]> ordinals = projection.get().ordinalsIn(scan);
      if (ordinals.isPresent()) {
        return new RowSource(scan.rdd(), ordinals.get(), true);
      }
    }
    int[] identity = IntStream.range(0, data.schema().size()).toArray();
    return new RowSource(data.queryExecution().toRdd(), identity, false);
  }
}
