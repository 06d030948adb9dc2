package dev.sparklinear.job;

import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes synthetic Parquet feature files: an {@code id} column and a {@code features} column of {@code array<float>}.
 *
 * <p>Values are uniform in [-4, 4) from a generator seeded by (seed, id), so the data is the same for the same seed
 * whatever the number of partitions or machines.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Writes a synthetic Parquet feature dataset (id: bigint, features: array<float>).")
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--rows", required = true, paramLabel = "N", description = "number of rows")
  long rows;

  @Option(names = "--dim", required = true, paramLabel = "D", description = "features per row")
  int dim;

  @Option(names = "--out", required = true, paramLabel = "PATH", description = "output folder")
  String out;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--partitions", paramLabel = "P",
      description = "output files (default: one per 500,000 rows, at least the number of cores)")
  Integer partitions;

  @Option(names = "--label", description = "also write a label column (double) for spark-linear fit: a fixed linear"
      + " function of the features, sum_k sin(k + 1) x_k / sqrt(D) + 0.5, plus uniform noise in [-0.1, 0.1)")
  boolean label;

  @Option(names = "--overwrite", description = "replace PATH if it exists")
  boolean overwrite;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "WARN", description = "log level")
  String logLevel;

  @Option(names = "--stacktrace", description = "print the full stack trace of a failure")
  boolean stackTrace;

  @Override
  public Integer call() {
    if (rows < 0) {
      throw new IllegalArgumentException("Invalid --rows: " + rows + " (must be >= 0)");
    }
    if (dim <= 0) {
      throw new IllegalArgumentException("Invalid --dim: " + dim + " (must be > 0)");
    }
    SparkLinear.quietLogs(logLevel);
    SparkSession spark = Sessions.create(Map.of());
    try {
      long start = System.nanoTime();
      int parts = partitions != null ? partitions
          : (int) Math.max(spark.sparkContext().defaultParallelism(), Math.min(10_000, rows / 500_000 + 1));
      Dataset<Row> data = generate(spark, rows, dim, seed, parts, label);
      data.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(out);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("spark-linear: wrote %,d rows x %d features to %s in %.1f s%n", rows, dim, out, seconds);
      return 0;
    } finally {
      spark.stop();
    }
  }

  /** The synthetic dataset, deterministic in (rows, dim, seed) whatever the partitioning. */
  static Dataset<Row> generate(SparkSession spark, long rows, int dim, long seed, int partitions) {
    return generate(spark, rows, dim, seed, partitions, false);
  }

  /** The same, with a {@code label} column when {@code withLabel}; the features do not depend on it. */
  static Dataset<Row> generate(SparkSession spark, long rows, int dim, long seed, int partitions,
      boolean withLabel) {
    StructType features = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    StructType schema = withLabel ? features.add("label", DataTypes.DoubleType, false) : features;
    JavaRDD<InternalRow> data = spark.range(0, rows, 1, partitions).javaRDD().map(id -> {
      // One generator per row, seeded from (seed, id): the values do not depend on partitioning.
      SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
      float[] values = new float[dim];
      for (int k = 0; k < dim; k++) {
        values[k] = (float) (random.nextDouble() * 8 - 4);
      }
      if (!withLabel) {
        return new GenericInternalRow(new Object[] {id, UnsafeArrayData.fromPrimitiveArray(values)});
      }
      double target = 0.5 + (random.nextDouble() * 0.2 - 0.1);
      for (int k = 0; k < dim; k++) {
        target += Math.sin(k + 1) * values[k] / Math.sqrt(dim);
      }
      return new GenericInternalRow(new Object[] {id, UnsafeArrayData.fromPrimitiveArray(values), target});
    });
    return ((org.apache.spark.sql.classic.SparkSession) spark).internalCreateDataFrame(data.rdd(), schema, false);
  }
}
