package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.InvalidRowException;
import dev.sparklinear.testing.ArrayColumns;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.ParquetFooters;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class LinearJobTest extends LocalSpark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final StructType FLOAT_FEATURES = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), true)});

  @TempDir
  Path tmp;

  @AfterEach
  void noArrowMemoryHeldAfterTheJob() {
    assertNoArrowMemoryHeld();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** A path as a single-quoted YAML scalar. */
  private static String q(Path path) {
    return "'" + path.toString().replace("'", "''") + "'";
  }

  private static RunSummary run(String yaml) {
    return new LinearJob(JobConfig.parse(yaml, "test.yaml", List.of()), spark).run();
  }

  private static JsonNode summaryFile(Path output) throws IOException {
    Path file = output.resolve(RunSummary.FILE_NAME);
    assertThat(file).exists();
    return JSON.readTree(file.toFile());
  }

  /** Writes rows of (id, features: array<float>) as one Parquet file. */
  private Path floatFeatures(String name, float[]... rows) {
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      Float[] boxed = new Float[rows[i].length];
      for (int k = 0; k < boxed.length; k++) {
        boxed[k] = rows[i][k];
      }
      list.add(RowFactory.create((long) i, Arrays.asList(boxed)));
    }
    Path path = tmp.resolve(name);
    spark.createDataFrame(list, FLOAT_FEATURES).coalesce(1).write().parquet(path.toString());
    return path;
  }

  private static String seedModule() {
    return """
        module:
          in-features: 4
          out-features: 3
          bias: false
          weights: {format: inline, weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]}
        """;
  }

  /** The seed example's module over {@code input}, writing to {@code output}, plus any extra YAML lines. */
  private static String seedConfig(Path input, Path output, String... extra) {
    return seedModule()
        + "input: {path: " + q(input) + ", column: features}\n"
        + "output.path: " + q(output) + "\n"
        + String.join("\n", extra) + "\n";
  }

  private static Map<Long, List<Float>> arraysById(Dataset<Row> frame, String column) {
    Map<Long, List<Float>> out = new LinkedHashMap<>();
    for (Row row : frame.collectAsList()) {
      out.put(((Number) row.getAs("id")).longValue(), row.getList(row.fieldIndex(column)));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------- the seed example

  @Test
  void reportPageHoldsTheSummaryAndOneHistogramPerOutputWhoseCountsAreTheRows() throws IOException {
    Path output = tmp.resolve("report-out");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + output));

    RunSummary summary = new LinearJob(config, spark, true).run();

    // The seed outputs are 30, 40, 50 / 1, 2, 3 / 0, 0, 0: against the default [-10, 10] range, one value per
    // dimension lies above it, two inside.
    var stats = summary.hookStatistics().get(JobHooks.REPORT_STATS);
    assertThat(stats).hasSize(3);
    for (var dimension : stats) {
      assertThat(dimension.count()).isEqualTo(3);
      assertThat(dimension.overflow()).isEqualTo(1);
      assertThat(java.util.Arrays.stream(dimension.bins()).sum()).isEqualTo(2);
    }
    String html = java.nio.file.Files.readString(output.resolve("_report.html"));
    assertThat(html).contains("<th>Rows out</th><td>3</td>");
    var images = java.util.regex.Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
    int decoded = 0;
    while (images.find()) {
      assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(
          java.util.Base64.getDecoder().decode(images.group(1))))).isNotNull();
      decoded++;
    }
    assertThat(decoded).isEqualTo(3);
    assertNoArrowMemoryHeld();
  }

  @Test
  void outputColumnsCarryTheModuleAndTheWeightsSha256() throws Exception {
    Path output = tmp.resolve("lineage-out");
    Path weights = RepositoryRoot.resolve("data/weights/model_f32.safetensors");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/pytorch-safetensors.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + output,
        "module.weights.path=" + weights));

    new LinearJob(config, spark).run();

    var lineage = spark.read().parquet(output.toString()).schema().apply("output").metadata()
        .getMetadata(LinearJob.LINEAGE_KEY);
    assertThat(lineage.getString("module")).isEqualTo("Linear(in_features=4, out_features=3, bias=True)");
    assertThat(lineage.getMetadata("weights_sha256").getString(weights.toString())).isEqualTo(sha256(weights));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "two-level", "three-level"})
  void outputListsTakeTheConfiguredParquetLayoutAndTheComputedColumnsNoDictionary(String lists) {
    Path output = tmp.resolve("lists-out");
    List<String> overrides = new ArrayList<>(List.of("input.path=" + namedFeatures(), "output.path=" + output,
        "output.keep=[name]"));
    if (!lists.isEmpty()) {
      overrides.add("output.parquet-lists=" + lists);
    }
    JobConfig config = JobConfig.parse("module: {in-features: 4, out-features: 3, init-seed: 1}\n"
        + "input: {path: x, column: features}\noutput: {path: y}\n", "test.yaml", overrides);

    new LinearJob(config, spark).run();

    ParquetFooters footers = ParquetFooters.of(output);
    var element = footers.schema().getType("output").asGroupType().getType(0);
    String[] leaf;
    if (lists.equals("two-level")) {
      assertThat(element.getName()).isEqualTo("array");
      assertThat(element.isPrimitive()).isTrue();
      leaf = new String[] {"output", "array"};
    } else { // three-level, also the default
      assertThat(element.getName()).isEqualTo("list");
      leaf = new String[] {"output", "list", "element"};
    }
    assertThat(footers.chunks(leaf)).isNotEmpty().noneMatch(ColumnChunkMetaData::hasDictionaryPage);
    assertThat(spark.read().parquet(output.toString()).count()).isEqualTo(25);
    // The session's own setting is left as it was.
    assertThat(spark.conf().contains("spark.sql.parquet.writeLegacyFormat")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"array", "columns"})
  void columnarAndSparkWritersWriteTheSameOutputAndTheSummarySaysWhichRan(String layout) throws IOException {
    Path input = namedFeatures();
    Path columnar = tmp.resolve("writer-columnar");
    Path sparks = tmp.resolve("writer-spark");
    JobConfig byDefault = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + input, "output.path=" + columnar, "output.layout=" + layout));
    JobConfig sparkWriter = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + input, "output.path=" + sparks, "output.layout=" + layout, "output.parquet-writer=spark"));

    RunSummary columnarRun = new LinearJob(byDefault, spark).run();
    RunSummary sparkRun = new LinearJob(sparkWriter, spark).run();

    assertThat(columnarRun.writer()).isEqualTo("columnar");
    assertThat(columnarRun.toText()).contains("writer:  columnar");
    assertThat(summaryFile(columnar).get("writer").asText()).isEqualTo("columnar");
    assertThat(summaryFile(columnar).get("config").get("output.parquet-writer").asText()).isEqualTo("columnar");
    assertThat(sparkRun.writer()).isEqualTo("spark (output.parquet-writer: spark)");
    assertThat(ParquetFooters.of(columnar).schema()).isEqualTo(ParquetFooters.of(sparks).schema());
    Dataset<Row> columnarOut = spark.read().parquet(columnar.toString());
    Dataset<Row> sparkOut = spark.read().parquet(sparks.toString());
    assertThat(columnarOut.schema()).isEqualTo(sparkOut.schema()); // column metadata (lineage) included
    suite.assertDataFrameEquals(sparkOut.orderBy("id"), columnarOut.orderBy("id"));
    assertThat(listing(columnar)).contains("_SUCCESS", RunSummary.FILE_NAME).noneMatch(f -> f.startsWith("_temp"));
  }

  @Test
  void keptColumnsTheColumnarWriterDoesNotWriteGoToSparksWriterWithTheReason() {
    Path input = tmp.resolve("timestamps");
    spark.sql("SELECT id, TIMESTAMP '2026-11-27 10:00:00' + make_interval(0, 0, 0, 0, 0, 0, id) AS at,"
        + " array(1f, 2f, 3f, CAST(id AS FLOAT)) AS features FROM range(10)").write().parquet(input.toString());
    Path output = tmp.resolve("timestamps-out");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + input, "output.path=" + output));

    RunSummary summary = new LinearJob(config, spark).run();

    assertThat(summary.writer())
        .isEqualTo("spark (column at is TIMESTAMP, which the columnar writer does not write)");
    suite.assertDataFrameEquals(spark.read().parquet(input.toString()).select("id", "at").orderBy("id"),
        spark.read().parquet(output.toString()).select("id", "at").orderBy("id"));
  }

  @Test
  void partitionsRunOnTheScalarKernelAreCountedWithAdvice() {
    Path input = namedFeatures();
    Path output = tmp.resolve("scalar-out");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + input, "output.path=" + output, "output.keep=[id]"));
    String before = System.getProperty(LinearKernels.KERNEL_PROPERTY);
    System.setProperty(LinearKernels.KERNEL_PROPERTY, "scalar"); // local mode: the executors are this JVM
    RunSummary summary;
    try {
      summary = new LinearJob(config, spark).run();
    } finally {
      if (before == null) {
        System.clearProperty(LinearKernels.KERNEL_PROPERTY);
      } else {
        System.setProperty(LinearKernels.KERNEL_PROPERTY, before);
      }
    }

    int partitions = spark.read().parquet(input.toString()).rdd().getNumPartitions();
    assertThat(summary.kernels()).containsExactly(Map.entry("scalar", (long) partitions));
    assertThat(summary.toText()).contains("kernel:  scalar (" + partitions + " partition")
        .contains("note:    the scalar kernel is the slow one").contains("spark.executor.extraJavaOptions");
  }

  @Test
  void aFailedOverwriteKeepsThePreviousOutputAndARerunEqualsACleanRun() throws IOException {
    Path output = tmp.resolve("kept-out");
    JobConfig good = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + output));
    new LinearJob(good, spark).run();
    java.util.Set<String> before = listing(output);

    // A later row of the wrong width fails the job on the executors, after the preflight checks pass.
    Path bad = floatFeatures("late-bad", new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 4, 5});
    JobConfig failing = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + bad, "output.path=" + output, "output.mode=overwrite", "block.max-rows=1"));
    assertThatThrownBy(() -> new LinearJob(failing, spark).run()).hasRootCauseInstanceOf(
        dev.sparklinear.spark.InvalidRowException.class);

    assertThat(listing(output)).isEqualTo(before);
    assertThat(arraysById(spark.read().parquet(output.toString()), "output")).containsEntry(1L, List.of(30f, 40f, 50f));
    try (var siblings = java.nio.file.Files.list(tmp)) {
      assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains(".spark-linear-"));
    }

    // Re-run with the input repaired: the same result as a clean run into a fresh folder.
    Path repaired = floatFeatures("repaired", new float[] {1, 2, 3, 4}, new float[] {1, 0, 0, 0});
    new LinearJob(JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + repaired, "output.path=" + output, "output.mode=overwrite")), spark).run();
    Path clean = tmp.resolve("clean-out");
    new LinearJob(JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + repaired, "output.path=" + clean)), spark).run();
    assertThat(arraysById(spark.read().parquet(output.toString()), "output"))
        .isEqualTo(arraysById(spark.read().parquet(clean.toString()), "output"))
        .containsEntry(0L, List.of(30f, 40f, 50f)).containsEntry(1L, List.of(1f, 2f, 3f)).hasSize(2);
    assertNoArrowMemoryHeld();
  }

  private static java.util.Set<String> listing(Path folder) throws IOException {
    try (var files = java.nio.file.Files.list(folder)) {
      return files.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
    }
  }

  @Test
  void seedExampleWritesThirtyFortyFiftyAndASummaryThatReconciles() throws IOException {
    Path output = tmp.resolve("seed-out");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet"), "output.path=" + output));

    RunSummary summary = new LinearJob(config, spark).run();

    Dataset<Row> written = spark.read().parquet(output.toString());
    assertThat(written.columns()).containsExactly("id", "output");
    assertThat(arraysById(written, "output")).containsExactlyInAnyOrderEntriesOf(Map.of(
        1L, List.of(30f, 40f, 50f),
        2L, List.of(1f, 2f, 3f),
        3L, List.of(0f, 0f, 0f)));
    assertThat(summary.rowsIn()).isEqualTo(3);
    assertThat(summary.rowsOut()).isEqualTo(3);
    assertThat(summary.blocks()).isPositive();

    JsonNode file = summaryFile(output);
    assertThat(file.get("rows_in").asLong()).isEqualTo(3);
    assertThat(file.get("rows_out").asLong()).isEqualTo(written.count());
    assertThat(file.get("blocks").asLong()).isEqualTo(summary.blocks());
    assertThat(file.get("module").asText()).isEqualTo("Linear(in_features=4, out_features=3, bias=False)");
    assertThat(file.get("weights").asText()).isEqualTo("inline");
    assertThat(file.get("spark_version").asText()).isEqualTo(spark.version());
    assertThat(file.get("output_path").asText()).isEqualTo(output.toString());
    // The test JVM has the Vector API module (Spark's flags add it), so every partition ran the vector kernel.
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
    long partitions = spark.read().parquet(RepositoryRoot.resolve("data/seed/features.parquet").toString())
        .rdd().getNumPartitions();
    assertThat(file.get("kernels").properties()).hasSize(1);
    assertThat(file.get("kernels").get("vector").asLong()).isEqualTo(partitions);
    assertThat(summary.toText()).contains(String.format("kernel:  vector (%,d partition", partitions))
        .doesNotContain("note:");
    JsonNode resolved = file.get("config");
    assertThat(resolved.get("module.in-features").asInt()).isEqualTo(4);
    assertThat(resolved.get("module.out-features").asInt()).isEqualTo(3);
    assertThat(resolved.get("module.bias").asBoolean()).isFalse();
    assertThat(resolved.get("module.weights.weight").asText()).isEqualTo("matrix [3, 4]");
    assertThat(resolved.get("input.path").asText()).isEqualTo(RepositoryRoot.resolve("data/seed/features.parquet")
        .toString());
    assertThat(resolved.get("input.column").asText()).isEqualTo("features");
    assertThat(resolved.get("output.mode").asText()).isEqualTo("overwrite");
    assertThat(resolved.get("output.layout").asText()).isEqualTo("array");
    assertThat(resolved.get("block.max-rows").asInt()).isEqualTo(4096);
  }

  // ------------------------------------------------------------- random data, every input and output form

  private static final int IN = 6;
  private static final int OUT = 3;
  private static final int ROWS = 40;

  /** How the features are stored in the input. */
  enum InputType {
    FLOAT_ARRAY,
    DOUBLE_ARRAY,
    VECTOR,
    COLUMNS
  }

  /**
   * Input (format, type) pairs crossed with the layouts; the output format alternates so that every input, every
   * layout and every (layout, output format) pair is written as both Parquet and JSON at least once. CSV and JSON
   * hold no arrays, so they feed input.columns; ORC does not keep a Spark ML vector's type (it reads back as a plain
   * struct), so vectors come from Parquet only.
   */
  static Stream<Arguments> forms() {
    List<String[]> inputs = List.of(
        new String[] {"parquet", "FLOAT_ARRAY"}, new String[] {"parquet", "DOUBLE_ARRAY"},
        new String[] {"parquet", "VECTOR"}, new String[] {"parquet", "COLUMNS"},
        new String[] {"orc", "FLOAT_ARRAY"}, new String[] {"orc", "DOUBLE_ARRAY"},
        new String[] {"orc", "COLUMNS"},
        new String[] {"json", "COLUMNS"}, new String[] {"csv", "COLUMNS"});
    List<Arguments> out = new ArrayList<>();
    String[] layouts = {"array", "vector", "columns"};
    for (int i = 0; i < inputs.size(); i++) {
      for (int j = 0; j < layouts.length; j++) {
        String outputFormat = (i + j) % 2 == 0 ? "parquet" : "json";
        out.add(Arguments.of(inputs.get(i)[0], InputType.valueOf(inputs.get(i)[1]), layouts[j], outputFormat));
      }
    }
    return out.stream();
  }

  /** Feature values uniform in [-4, 4), a quarter of them zero so that sparse vectors have real zeros. */
  private static double[][] randomFeatures(long seed) {
    Random random = new Random(seed);
    double[][] x = new double[ROWS][IN];
    for (double[] row : x) {
      for (int k = 0; k < IN; k++) {
        row[k] = random.nextInt(4) == 0 ? 0.0 : random.nextDouble() * 8 - 4;
      }
    }
    return x;
  }

  /** Multiples of 1/1024 in [-0.5, 0.5]: exact in YAML, in double and in float32. */
  private static float[][] randomMatrix(Random random, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (float[] row : m) {
      for (int k = 0; k < cols; k++) {
        row[k] = (random.nextInt(1025) - 512) / 1024f;
      }
    }
    return m;
  }

  private static String yamlMatrix(float[][] m) {
    return Arrays.stream(m).map(LinearJobTest::yamlVector).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String yamlVector(float[] v) {
    return IntStream.range(0, v.length).mapToObj(k -> Float.toString(v[k])).collect(Collectors.joining(", ", "[", "]"));
  }

  /**
   * {@code x W^T + b} in double precision with plain loops, after narrowing each input to float32 as the job
   * documents (PyTorch's {@code .float()}).
   */
  private static double[][] reference(double[][] x, float[][] weight, float[] bias) {
    double[][] y = new double[x.length][weight.length];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < weight.length; o++) {
        double sum = bias[o];
        for (int k = 0; k < x[r].length; k++) {
          sum += (double) (float) x[r][k] * weight[o][k];
        }
        y[r][o] = sum;
      }
    }
    return y;
  }

  /** Writes (id, name, features in the given type) in the given format; CSV and JSON get scalar columns. */
  private Path writeInput(String format, InputType type, double[][] x) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField("id", DataTypes.LongType, false));
    fields.add(DataTypes.createStructField("name", DataTypes.StringType, true));
    switch (type) {
      case FLOAT_ARRAY -> fields.add(
          DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), true));
      case DOUBLE_ARRAY -> fields.add(
          DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.DoubleType, false), true));
      case VECTOR -> fields.add(DataTypes.createStructField("features", SQLDataTypes.VectorType(), true));
      case COLUMNS -> {
        for (int k = 0; k < IN; k++) {
          fields.add(DataTypes.createStructField("f" + k, DataTypes.DoubleType, true));
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      List<Object> values = new ArrayList<>(List.of((long) i));
      values.add(i % 4 == 0 ? null : "row-" + i);
      switch (type) {
        case FLOAT_ARRAY -> {
          List<Float> floats = new ArrayList<>();
          Arrays.stream(x[i]).forEach(v -> floats.add((float) v));
          values.add(floats);
        }
        case DOUBLE_ARRAY -> values.add(Arrays.stream(x[i]).boxed().toList());
        case VECTOR -> values.add(i % 2 == 0 ? Vectors.dense(x[i]) : Vectors.dense(x[i]).toSparse());
        case COLUMNS -> Arrays.stream(x[i]).forEach(values::add);
      }
      rows.add(RowFactory.create(values.toArray()));
    }
    Path path = tmp.resolve("in." + format);
    spark.createDataFrame(rows, new StructType(fields.toArray(new StructField[0]))).repartition(3)
        .write().format(format).option("header", "true").save(path.toString());
    return path;
  }

  private static String featureKeys(InputType type) {
    if (type != InputType.COLUMNS) {
      return "  column: features\n";
    }
    return IntStream.range(0, IN).mapToObj(k -> "f" + k).collect(Collectors.joining(", ", "  columns: [", "]\n"));
  }

  /** The output columns that hold the result, by layout. */
  private static List<StructField> outputFields(String layout) {
    return switch (layout) {
      case "array" -> List.of(
          DataTypes.createStructField("output", DataTypes.createArrayType(DataTypes.FloatType, false), true));
      case "vector" -> List.of(DataTypes.createStructField("output", SQLDataTypes.VectorType(), true));
      default -> IntStream.range(0, OUT)
          .mapToObj(j -> DataTypes.createStructField("output_" + j, DataTypes.FloatType, true)).toList();
    };
  }

  /** The result as one array<float> column named output, whatever the layout, made with Spark's own functions. */
  private static Column resultAsFloatArray(String layout) {
    return switch (layout) {
      case "array" -> functions.col("output");
      case "vector" -> org.apache.spark.ml.functions.vector_to_array(functions.col("output"), "float32");
      default -> functions.array(IntStream.range(0, OUT).mapToObj(j -> functions.col("output_" + j))
          .toArray(Column[]::new));
    };
  }

  /**
   * Tolerance 1e-5. Inputs are |x| < 4 rounded to float32, weights and biases |w|, |b| <= 0.5 exact in float32, so
   * the reference (exact products, double sums) is the true value to ~1e-15. A float32 sum of 6 products plus a bias
   * is within gamma(7) * (sum |x_k w_k| + |b|) <= 7 * 2^-24 * 12.5 = 5.2e-6 of it (Higham, Accuracy and Stability
   * of Numerical Algorithms, 3.1), in any summation order. A wrong weight, index or missing term moves a value by
   * one whole term, typically 0.1 to 2, and the smallest nonzero term here is still far above 1e-5 for most rows.
   */
  private static final double RANDOM_TOLERANCE = 1e-5;

  @ParameterizedTest(name = "{0} {1} -> {2} as {3}")
  @MethodSource("forms")
  void outputEqualsDoublePrecisionReference(String inputFormat, InputType type, String layout, String outputFormat) {
    Random random = new Random(Objects.hash(inputFormat, type, layout));
    float[][] weight = randomMatrix(random, OUT, IN);
    float[] bias = randomMatrix(random, 1, OUT)[0];
    double[][] x = randomFeatures(random.nextLong());
    Path input = writeInput(inputFormat, type, x);
    Path output = tmp.resolve("out");
    String options = inputFormat.equals("csv") ? "  options: {header: \"true\", inferSchema: \"true\"}\n" : "";
    String yaml = "module:\n"
        + "  in-features: " + IN + "\n"
        + "  out-features: " + OUT + "\n"
        + "  weights: {format: inline, weight: " + yamlMatrix(weight) + ", bias: " + yamlVector(bias) + "}\n"
        + "input:\n"
        + "  path: " + q(input) + "\n"
        + "  format: " + inputFormat + "\n"
        + featureKeys(type)
        + options
        + "output: {path: " + q(output) + ", format: " + outputFormat + ", layout: " + layout + "}\n"
        + "block.max-rows: 7\n";

    RunSummary summary = run(yaml);

    Dataset<Row> in = spark.read().format(inputFormat).option("header", "true").option("inferSchema", "true")
        .load(input.toString());
    List<StructField> written = new ArrayList<>(List.of(in.schema().apply("id"), in.schema().apply("name")));
    written.addAll(outputFields(layout));
    Dataset<Row> out = outputFormat.equals("parquet")
        ? spark.read().parquet(output.toString())
        : spark.read().schema(new StructType(written.toArray(new StructField[0]))).json(output.toString());
    if (outputFormat.equals("parquet")) {
      assertThat(out.columns()).containsExactlyElementsOf(written.stream().map(StructField::name).toList());
    }

    suite.assertDataFrameEquals(in.select("id", "name").orderBy("id"), out.select("id", "name").orderBy("id"));

    double[][] y = reference(x, weight, bias);
    List<Row> expectedRows = new ArrayList<>();
    for (int i = 0; i < y.length; i++) {
      expectedRows.add(RowFactory.create((long) i, Arrays.stream(y[i]).boxed().toList()));
    }
    Dataset<Row> expected = spark.createDataFrame(expectedRows, new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("output", DataTypes.createArrayType(DataTypes.DoubleType), false)}));
    Dataset<Row> actual = out.select(functions.col("id"), resultAsFloatArray(layout).as("output"));
    assertThat(((ArrayType) actual.schema().apply("output").dataType()).elementType())
        .isEqualTo(DataTypes.FloatType);
    ArrayColumns.assertClose(actual, expected, "id", "output", RANDOM_TOLERANCE);

    assertThat(summary.rowsIn()).isEqualTo(ROWS);
    assertThat(summary.rowsOut()).isEqualTo(ROWS);
    assertThat(out.count()).isEqualTo(ROWS);
    assertThat(summary.blocks()).isGreaterThanOrEqualTo((ROWS + 6) / 7);
  }

  // ------------------------------------------------------------------------------------------------ output.keep

  private Path namedFeatures() {
    StructType schema = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("name", DataTypes.StringType, true),
        DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField("score", DataTypes.DoubleType, true)});
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      rows.add(RowFactory.create((long) i, "n" + i, Arrays.asList(1f, 0f, 0f, (float) i), i / 2.0));
    }
    Path path = tmp.resolve("named");
    spark.createDataFrame(rows, schema).repartition(2).write().parquet(path.toString());
    return path;
  }

  @Test
  void defaultKeepIsEveryInputColumnButTheFeatures() {
    Path input = namedFeatures();
    Path output = tmp.resolve("out");
    RunSummary summary = run(seedConfig(input, output));

    Dataset<Row> out = spark.read().parquet(output.toString());
    assertThat(out.columns()).containsExactly("id", "name", "score", "output");
    suite.assertDataFrameEquals(
        spark.read().parquet(input.toString()).select("id", "name", "score").orderBy("id"),
        out.select("id", "name", "score").orderBy("id"));
    assertThat(out.count()).isEqualTo(25).isEqualTo(summary.rowsIn()).isEqualTo(summary.rowsOut());
    // [1, 0, 0, i] -> [1 + 4i, 2 + 5i, 3 + 6i]: exact in float32 for these small integers.
    Map<Long, List<Float>> y = arraysById(out, "output");
    for (long i = 0; i < 25; i++) {
      assertThat(y.get(i)).containsExactly(1f + 4 * i, 2f + 5 * i, 3f + 6 * i);
    }
  }

  @Test
  void keepSelectsThePassedThroughColumnsInItsOrder() {
    Path input = namedFeatures();
    Path output = tmp.resolve("out");
    RunSummary summary = run(seedConfig(input, output, "output.keep: [score, id]"));

    Dataset<Row> out = spark.read().parquet(output.toString());
    assertThat(out.columns()).containsExactly("score", "id", "output");
    suite.assertDataFrameEquals(spark.read().parquet(input.toString()).select("score", "id").orderBy("id"),
        out.select("score", "id").orderBy("id"));
    assertThat(out.count()).isEqualTo(25).isEqualTo(summary.rowsOut());
  }

  @Test
  void emptyKeepWritesOnlyTheOutput() {
    Path input = namedFeatures();
    Path output = tmp.resolve("out");
    RunSummary summary = run(seedConfig(input, output, "output.keep: []"));

    Dataset<Row> out = spark.read().parquet(output.toString());
    assertThat(out.columns()).containsExactly("output");
    assertThat(out.count()).isEqualTo(25).isEqualTo(summary.rowsIn()).isEqualTo(summary.rowsOut());
  }

  // -------------------------------------------------------------------------------------- PyTorch weights

  /** torch's recorded {@code fc} inputs and outputs, and the file's tensors, from the weight readers' fixtures. */
  private static JsonNode torchRecord() throws IOException {
    return JSON.readTree(RepositoryRoot.resolve("core/src/test/resources/weights/expected.json").toFile());
  }

  private Path torchInputs(JsonNode record) {
    JsonNode inputs = record.get("fc_forward").get("input");
    float[][] rows = new float[inputs.size()][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = new float[inputs.get(i).size()];
      for (int k = 0; k < rows[i].length; k++) {
        rows[i][k] = (float) inputs.get(i).get(k).asDouble();
      }
    }
    return floatFeatures("torch-inputs", rows);
  }

  private static Dataset<Row> torchOutputs(JsonNode record) {
    JsonNode outputs = record.get("fc_forward").get("output");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      List<Double> y = new ArrayList<>();
      outputs.get(i).forEach(v -> y.add(v.asDouble()));
      rows.add(RowFactory.create((long) i, y));
    }
    return spark.createDataFrame(rows, new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("output", DataTypes.createArrayType(DataTypes.DoubleType), false)}));
  }

  /**
   * Tolerance 1e-5 against torch's float32 outputs. Here |x| < 2.6 and |w|, |b| < 0.5, so sum |x_k w_k| + |b| < 5.7;
   * torch and this job each sum 4 products and a bias in float32, each within gamma(5) * 5.7 = 1.7e-6 of the true
   * value, so within 3.4e-6 of each other whatever order they sum in. Loading the wrong tensor, a transposed weight
   * or no bias moves the outputs by 0.01 or more.
   */
  private static final double TORCH_TOLERANCE = 1e-5;

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  /** A safetensors file's {@code __metadata__}, read from its header: an 8-byte little-endian length, then JSON. */
  private static Map<String, String> safetensorsMetadata(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode header = JSON.readTree(new String(bytes, 8, (int) length, StandardCharsets.UTF_8));
    Map<String, String> metadata = new LinkedHashMap<>();
    header.get("__metadata__").fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
    return metadata;
  }

  @Test
  void safetensorsWeightsExportedByPyTorchGiveTorchsOutputs() throws Exception {
    JsonNode record = torchRecord();
    Path weights = RepositoryRoot.resolve("data/weights/model_f32.safetensors");
    Path input = torchInputs(record);
    Path output = tmp.resolve("out");
    RunSummary summary = run("""
        module:
          in-features: 4
          out-features: 3
          weights: {format: safetensors, path: %s, prefix: "fc."}
        input: {path: %s, column: features}
        output.path: %s
        """.formatted(q(weights), q(input), q(output)));

    ArrayColumns.assertClose(spark.read().parquet(output.toString()), torchOutputs(record), "id", "output",
        TORCH_TOLERANCE);
    Map<String, String> metadata = safetensorsMetadata(weights);
    assertThat(metadata).containsEntry("format", "pt");
    assertThat(summary.weightsSha256()).isEqualTo(Map.of(weights.toString(), sha256(weights)));
    assertThat(summary.weightsMetadata()).isEqualTo(metadata);
    assertThat(summary.module()).isEqualTo("Linear(in_features=4, out_features=3, bias=True)");

    JsonNode file = summaryFile(output);
    assertThat(file.get("weights_sha256").get(weights.toString()).asText()).isEqualTo(sha256(weights));
    assertThat(JSON.convertValue(file.get("weights_metadata"), Map.class)).isEqualTo(metadata);
    assertThat(file.get("weights").asText()).isEqualTo(weights.toString());
  }

  @Test
  void npyWeightAndBiasExportedByNumPyGiveTorchsOutputs() throws Exception {
    JsonNode record = torchRecord();
    Path weight = RepositoryRoot.resolve("data/weights/fc_weight.npy");
    Path bias = RepositoryRoot.resolve("data/weights/fc_bias.npy");
    Path input = torchInputs(record);
    Path output = tmp.resolve("out");
    RunSummary summary = run("""
        module:
          in-features: 4
          out-features: 3
          weights: {format: npy, path: %s, bias-path: %s}
        input: {path: %s, column: features}
        output.path: %s
        """.formatted(q(weight), q(bias), q(input), q(output)));

    ArrayColumns.assertClose(spark.read().parquet(output.toString()), torchOutputs(record), "id", "output",
        TORCH_TOLERANCE);
    assertThat(summary.weightsSha256())
        .isEqualTo(Map.of(weight.toString(), sha256(weight), bias.toString(), sha256(bias)));
    assertThat(summary.weightsMetadata()).isEmpty();
    JsonNode file = summaryFile(output);
    assertThat(file.get("weights_sha256").get(bias.toString()).asText()).isEqualTo(sha256(bias));
  }

  // ------------------------------------------------------------------------------------------ clear errors

  private Path seedInput() {
    return floatFeatures("seed-in", new float[] {1, 2, 3, 4}, new float[] {0, 0, 0, 1});
  }

  @Test
  void missingInputPathIsAPreflightErrorNamingThePath() {
    Path input = tmp.resolve("no-such-input");
    Path output = tmp.resolve("out");
    assertThatThrownBy(() -> run(seedConfig(input, output)))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: Input path " + input + " does not exist (input.path). Check the path, or"
            + " run 'spark-linear generate' to make sample data.");
    assertThat(output).doesNotExist();
  }

  @Test
  void missingFeatureColumnIsNamedWithTheAvailableColumns() {
    Path output = tmp.resolve("out");
    String yaml = seedConfig(seedInput(), output).replace("column: features", "column: feature");
    assertThatThrownBy(() -> run(yaml))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: The feature column 'feature' does not exist. Available columns: [id,"
            + " features]");
    assertThat(output).doesNotExist();
  }

  @Test
  void columnOfTheWrongTypeIsNamedWithItsType() {
    String yaml = seedConfig(seedInput(), tmp.resolve("out")).replace("column: features", "column: id");
    assertThatThrownBy(() -> run(yaml))
        .isInstanceOf(PreflightException.class)
        .hasMessageStartingWith("Cannot run test.yaml: Column 'id' has type bigint, which is not a feature vector");
  }

  @Test
  void vectorsOfTheWrongWidthAreCaughtBeforeAnyTaskInPyTorchsWords() {
    Path input = floatFeatures("wide", new float[] {1, 2, 3, 4, 5}, new float[] {0, 0, 0, 0, 1});
    Path output = tmp.resolve("out");
    assertThatThrownBy(() -> run(seedConfig(input, output)))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: Column 'features' holds vectors of 5 values, but module.in-features is 4:"
            + " mat1 and mat2 shapes cannot be multiplied (1x5 and 4x3). Set module.in-features to 5 or check"
            + " input.column.");
    assertThat(output).doesNotExist();
  }

  @Test
  void vectorColumnOfTheWrongWidthIsCaughtBeforeAnyTask() {
    StructType schema = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("features", SQLDataTypes.VectorType(), true)});
    Path input = tmp.resolve("vectors");
    spark.createDataFrame(List.of(RowFactory.create(0L, Vectors.sparse(5, new int[] {4}, new double[] {1}))), schema)
        .write().parquet(input.toString());
    assertThatThrownBy(() -> run(seedConfig(input, tmp.resolve("out"))))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("Column 'features' holds vectors of 5 values, but module.in-features is 4:"
            + " mat1 and mat2 shapes cannot be multiplied (1x5 and 4x3)");
  }

  @Test
  void aLaterRowOfTheWrongWidthFailsOnTheExecutorNamingItsKeyAndFile() {
    float[][] rows = new float[10][];
    for (int i = 0; i < 9; i++) {
      rows[i] = new float[] {i, 1, 2, 3};
    }
    rows[9] = new float[] {9, 1, 2, 3, 4};
    Path input = floatFeatures("late-wide", rows);
    Path output = tmp.resolve("out");

    assertThatThrownBy(() -> run(seedConfig(input, output)))
        .hasRootCauseInstanceOf(InvalidRowException.class)
        .rootCause()
        .hasMessageContaining("(id=9)")
        .hasMessageContaining(" in " + input.toUri() + "part-00000-")
        .hasMessageContaining("column 'features' has 5 values, expected in_features=4")
        .hasMessageContaining("mat1 and mat2 shapes cannot be multiplied (1x5 and 4x3)");
    assertThat(output.resolve(RunSummary.FILE_NAME)).doesNotExist();
    assertNoArrowMemoryHeld();
  }

  @Test
  void existingOutputPathFailsWithErrorIfExists() throws IOException {
    Path output = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(output.resolve("keep-me.txt"), "earlier results");
    assertThatThrownBy(() -> run(seedConfig(seedInput(), output)))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: Output path " + output + " already exists and output.mode is"
            + " errorifexists. Remove it, choose another output.path, or set output.mode=overwrite.");
    assertThat(output.resolve("keep-me.txt")).hasContent("earlier results");
  }

  @Test
  void outputPathEqualToInputPathIsRefusedEvenWithOverwrite() {
    Path input = seedInput();
    assertThatThrownBy(() -> run(seedConfig(input, input, "output.mode: overwrite")))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: output.path is the same as input.path (" + input + "): the job would"
            + " overwrite its own input. Choose another output.path.");
    assertThat(spark.read().parquet(input.toString()).count()).isEqualTo(2);
  }

  @Test
  void everyProblemIsReportedAtOnce() throws IOException {
    Path input = tmp.resolve("no-such-input");
    Path output = Files.createDirectories(tmp.resolve("out"));
    Path weights = tmp.resolve("no-such.safetensors");
    String yaml = """
        module:
          in-features: 4
          out-features: 3
          weights: {format: safetensors, path: %s}
        input: {path: %s, column: features}
        output.path: %s
        """.formatted(q(weights), q(input), q(output));

    assertThatThrownBy(() -> run(yaml))
        .isInstanceOf(PreflightException.class)
        .hasMessageStartingWith("Cannot run test.yaml: 3 problems:\n  - ")
        .satisfies(e -> assertThat(((PreflightException) e).problems()).satisfiesExactly(
            p -> assertThat(p).startsWith("Cannot read weights from " + weights + ": the file does not exist"),
            p -> assertThat(p).startsWith("Input path " + input + " does not exist"),
            p -> assertThat(p).startsWith("Output path " + output + " already exists")));
  }

  @Test
  void weightsOfTheWrongShapeFailInPyTorchsWords() {
    Path weights = RepositoryRoot.resolve("data/weights/model_f32.safetensors");
    String yaml = """
        module:
          in-features: 4
          out-features: 3
          weights: {format: safetensors, path: %s, prefix: "encoder."}
        input: {path: %s, column: features}
        output.path: %s
        """.formatted(q(weights), q(seedInput()), q(tmp.resolve("out")));

    assertThatThrownBy(() -> run(yaml))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: Cannot read weights from " + weights + ": the tensors do not fit"
            + " Linear(in_features=4, out_features=3, bias=True). Error(s) in loading state_dict for Linear:\n"
            + "\tsize mismatch for weight: copying a param with shape [4, 8] from checkpoint, the shape in current"
            + " model is [3, 4].\n"
            + "\tsize mismatch for bias: copying a param with shape [4] from checkpoint, the shape in current model"
            + " is [3].\n"
            + "Set module.in-features, module.out-features and module.bias to match the file, or check"
            + " module.weights.prefix.");
  }

  @Test
  void missingWeightsFileIsNamed() {
    Path weight = tmp.resolve("missing_weight.npy");
    String yaml = """
        module:
          in-features: 4
          out-features: 3
          bias: false
          weights: {format: npy, path: %s}
        input: {path: %s, column: features}
        output.path: %s
        """.formatted(q(weight), q(seedInput()), q(tmp.resolve("out")));

    assertThatThrownBy(() -> run(yaml))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run test.yaml: Cannot read weights from " + weight + ": the file does not exist. Check"
            + " module.weights.path and module.weights.bias-path (relative paths are resolved against the working"
            + " directory)");
  }
}
