package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import dev.sparklinear.job.config.JobConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParquetPreviewTest extends LocalSpark {
  @TempDir
  Path tmp;

  private static Optional<ParquetPreview> preview(String path, Map<String, String> options) throws IOException {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    org.apache.hadoop.fs.Path input = new org.apache.hadoop.fs.Path(path);
    FileSystem fs = input.getFileSystem(hadoop);
    FileStatus[] matches = fs.globStatus(input);
    return ParquetPreview.of(fs, matches, options, hadoop);
  }

  /** Writes {@code rows} in their order to one Parquet file under {@code dir}. */
  private static String write(List<Row> rows, StructType schema, Path dir) {
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir.toString());
    return dir.toString();
  }

  private static StructType schema(StructField features) {
    return new StructType(new StructField[] {DataTypes.createStructField("id", DataTypes.LongType, false), features});
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void arrayColumnsGiveSparksSchemaAndTheFirstNonNullWidth(boolean twoLevelLists) throws IOException {
    StructType schema = schema(DataTypes.createStructField("features",
        DataTypes.createArrayType(DataTypes.DoubleType, true), true));
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create(0L, null));
    rows.add(RowFactory.create(1L, null));
    rows.add(RowFactory.create(2L, new double[] {1, 2, 3, 4, 5}));
    rows.add(RowFactory.create(3L, new double[] {1, 2}));
    spark.conf().set("spark.sql.parquet.writeLegacyFormat", String.valueOf(twoLevelLists));
    String path;
    try {
      path = write(rows.stream().map(r -> RowFactory.create(r.get(0), r.get(1) == null ? null
          : Arrays.stream((double[]) r.get(1)).boxed().toList())).toList(), schema, tmp.resolve("arrays"));
    } finally {
      spark.conf().unset("spark.sql.parquet.writeLegacyFormat");
    }

    ParquetPreview preview = preview(path, Map.of()).orElseThrow();

    assertThat(preview.schema()).isEqualTo(spark.read().parquet(path).schema());
    assertThat(preview.firstWidth("features")).isEqualTo(OptionalInt.of(5));
    assertThat(preview.firstWidth("id")).isEmpty();
    assertThat(preview.firstWidth("no_such_column")).isEmpty();
  }

  @Test
  void vectorColumnsGiveTheirSizeDenseOrSparse() throws IOException {
    StructType schema = schema(DataTypes.createStructField("features", SQLDataTypes.VectorType(), true));
    String dense = write(List.of(RowFactory.create(0L, Vectors.dense(1, 2, 3)),
        RowFactory.create(1L, Vectors.sparse(9, new int[] {1}, new double[] {1}))), schema, tmp.resolve("dense"));
    String sparse = write(List.of(RowFactory.create(0L, null),
        RowFactory.create(1L, Vectors.sparse(7, new int[] {1, 4}, new double[] {1, 2}))), schema, tmp.resolve("sparse"));

    ParquetPreview densePreview = preview(dense, Map.of()).orElseThrow();
    assertThat(densePreview.schema()).isEqualTo(spark.read().parquet(dense).schema());
    assertThat(densePreview.firstWidth("features")).isEqualTo(OptionalInt.of(3));
    assertThat(preview(sparse, Map.of()).orElseThrow().firstWidth("features")).isEqualTo(OptionalInt.of(7));
  }

  @Test
  void theSchemaComesFromTheFirstFileInPathOrderAsSparksDoes() throws IOException {
    Path dir = tmp.resolve("two-files");
    // b- is written first, a- second: Spark takes a- (path order), whose id is an int, not a long.
    StructType longIds = schema(DataTypes.createStructField("features",
        DataTypes.createArrayType(DataTypes.FloatType, false), false));
    write(List.of(RowFactory.create(0L, List.of(1f, 2f))), longIds, tmp.resolve("b"));
    StructType intIds = new StructType(new StructField[] {DataTypes.createStructField("id", DataTypes.IntegerType, false),
        DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)});
    write(List.of(RowFactory.create(0, List.of(1f, 2f, 3f))), intIds, tmp.resolve("a"));
    java.nio.file.Files.createDirectories(dir);
    for (String name : List.of("b", "a")) {
      try (var files = java.nio.file.Files.list(tmp.resolve(name))) {
        for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".parquet")).toList()) {
          java.nio.file.Files.copy(file, dir.resolve(name + "-" + file.getFileName()));
        }
      }
    }

    ParquetPreview preview = preview(dir.toString(), Map.of()).orElseThrow();

    assertThat(preview.schema()).isEqualTo(spark.read().parquet(dir.toString()).schema());
    assertThat(preview.schema().apply("id").dataType()).isEqualTo(DataTypes.IntegerType);
    assertThat(preview.firstWidth("features")).isEqualTo(OptionalInt.of(3));
  }

  @Test
  void theBundledSampleDataPreviewsAsSparkReadsIt() throws IOException {
    for (String data : List.of("data/seed/features.parquet", "data/random-64")) {
      String path = RepositoryRoot.resolve(data).toString();
      Dataset<Row> read = spark.read().parquet(path);
      ParquetPreview preview = preview(path, Map.of()).orElseThrow();
      assertThat(preview.schema()).as(data).isEqualTo(read.schema());
      Row first = read.where("features is not null").first();
      assertThat(preview.firstWidth("features")).as(data)
          .isEqualTo(OptionalInt.of(first.getList(first.fieldIndex("features")).size()));
    }
  }

  @Test
  void partitionFoldersAndSchemaMergingAreLeftToSpark() throws IOException {
    StructType schema = schema(DataTypes.createStructField("features",
        DataTypes.createArrayType(DataTypes.FloatType, false), false));
    Path partitioned = tmp.resolve("partitioned");
    spark.createDataFrame(List.of(RowFactory.create(0L, List.of(1f)), RowFactory.create(1L, List.of(2f))), schema)
        .write().partitionBy("id").parquet(partitioned.toString());
    String plain = write(List.of(RowFactory.create(0L, List.of(1f))), schema, tmp.resolve("plain"));

    assertThat(preview(partitioned.toString(), Map.of())).isEmpty();
    assertThat(preview(plain, Map.of("mergeSchema", "true"))).isEmpty();
    assertThat(preview(plain, Map.of())).isPresent();
  }

  @Test
  void theSeedExampleRunsOneSparkJobTheWriteWithNoSchemaOrPreflightJob() throws Exception {
    Path output = tmp.resolve("seed-out");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + output));
    AtomicInteger jobs = new AtomicInteger();
    SparkListener counter = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart jobStart) {
        jobs.incrementAndGet();
      }
    };
    spark.sparkContext().listenerBus().waitUntilEmpty();
    spark.sparkContext().addSparkListener(counter);
    try {
      RunSummary summary = new LinearJob(config, spark).run();
      spark.sparkContext().listenerBus().waitUntilEmpty();
      assertThat(summary.rowsOut()).isEqualTo(3);
    } finally {
      spark.sparkContext().removeSparkListener(counter);
    }
    assertThat(jobs.get()).isEqualTo(1);
    // A width mismatch is still found before any task runs, now from the file's first page.
    JobConfig tooWide = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + tmp.resolve("x"),
        "module.in-features=5", "module.weights.weight=[[1, 2, 3, 4, 5]]", "module.out-features=1"));
    assertThatThrownBy(() -> new LinearJob(tooWide, spark).run()).isInstanceOf(PreflightException.class)
        .hasMessageContaining("Column 'features' holds vectors of 4 values, but module.in-features is 5");
  }
}
