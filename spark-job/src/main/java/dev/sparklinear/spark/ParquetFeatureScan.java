package dev.sparklinear.spark;

import java.util.Optional;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.util.SerializableConfiguration;

/**
 * A Parquet file scan whose {@code array<float>} feature column spark-linear reads itself
 * ({@link dev.sparklinear.spark.parquet.FloatListReader}) while Spark reads the kept columns: the plan of the kept
 * columns alone, and what each task needs to open the feature column of the file split a batch came from.
 *
 * <p>Only the plainest scans are taken: a Parquet file source (no partition columns, no pushed filters, no
 * buckets), read columnar for the kept columns. With no pushed filter, Spark's reader keeps exactly the row groups
 * whose midpoint is in the split (parquet-mr's range filter, in {@code SpecificParquetRecordReaderBase}), as ours
 * does, so both read the same rows in the same order.
 *
 * @param keptScan the columnar scan of the kept columns
 * @param keptOrdinals for kept column {@code i}, its index in {@code keptScan}'s batches
 * @param column the feature column's name in the files
 * @param hadoopConf the scan's Hadoop configuration (with the reader options), broadcast once
 */
record ParquetFeatureScan(SparkPlan keptScan, int[] keptOrdinals, String column,
    Broadcast<SerializableConfiguration> hadoopConf) {

  /**
   * The scan for {@code full} (the kept columns then the feature column, read columnar), or empty
   * when its input is not a plain Parquet file scan of an {@code array<float>} feature column.
   */
  static Optional<ParquetFeatureScan> of(SparkSession session, ColumnarInput full,
      Dataset<Row> keptOnly) {
    if (!(unwrap(full.source()) instanceof FileSourceScanExec scan) || !plainParquet(scan)
        || !plainSettings(session, scan.relation())) {
      return Optional.empty();
    }
    int[] ordinals = full.ordinals();
    Attribute feature = scan.output().apply(ordinals[ordinals.length - 1]);
    if (!(feature.dataType() instanceof ArrayType array) || !DataTypes.FloatType.equals(array.elementType())) {
      return Optional.empty();
    }
    Optional<ColumnarInput> kept = ColumnarInput.of(keptOnly);
    if (kept.isEmpty() || !(unwrap(kept.get().source()) instanceof FileSourceScanExec keptScan)
        || !keptScan.relation().equals(scan.relation()) || !plainParquet(keptScan)) {
      return Optional.empty();
    }
    HadoopFsRelation relation = scan.relation();
    Broadcast<SerializableConfiguration> conf = SerializableConfiguration.broadcast(session.sparkContext(),
        session.sessionState().newHadoopConfWithOptions(relation.options()));
    return Optional.of(new ParquetFeatureScan(keptScan, kept.get().ordinals(), feature.name(), conf));
  }

  /** The scan under whole-stage code generation's adapter, which only passes its batches on. */
  private static SparkPlan unwrap(SparkPlan plan) {
    return plan instanceof InputAdapter adapter ? adapter.child() : plan;
  }

  /**
   * Whether the settings that change how Spark pairs a file's columns or rows are at their defaults: column names
   * matched ignoring case (ours matches so), no Parquet field ids, no files skipped part way when corrupt or missing.
   */
  private static boolean plainSettings(SparkSession session, HadoopFsRelation relation) {
    SQLConf conf = session.sessionState().conf();
    scala.collection.immutable.Map<String, String> options = relation.options();
    return !conf.caseSensitiveAnalysis() && !conf.parquetFieldIdReadEnabled() && !conf.ignoreCorruptFiles()
        && !conf.ignoreMissingFiles() && !options.contains("ignoreCorruptFiles")
        && !options.contains("ignoreMissingFiles");
  }

  private static boolean plainParquet(FileSourceScanExec scan) {
    HadoopFsRelation relation = scan.relation();
    return relation.fileFormat() instanceof ParquetFileFormat && relation.partitionSchema().isEmpty()
        && relation.bucketSpec().isEmpty() && scan.dataFilters().isEmpty() && scan.partitionFilters().isEmpty()
        && !scan.bucketedScan() && scan.supportsColumnar();
  }
}
