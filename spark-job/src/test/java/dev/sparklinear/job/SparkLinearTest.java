package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line, run in-process through {@link SparkLinear#execute}. Each run makes its own Spark session with
 * {@code getOrCreate()} and stops it at the end, so this class shares no session: it does not extend LocalSpark, and
 * reads what the commands wrote with a session of its own, started after them and stopped before the test ends.
 */
class SparkLinearTest {
  @TempDir
  Path tmp;

  /** What a command returned and printed. */
  record Result(int exitCode, String out, String err) {}

  @BeforeAll
  static void startLoggingBeforeCapturingStreams() {
    // Log4j's console appender keeps the stderr it first sees; let that be the real one, not a test's capture.
    LogManager.getLogger(SparkLinearTest.class).debug("logging started");
  }

  private static Result execute(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = SparkLinear.execute(args);
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static String seedConfig() {
    return RepositoryRoot.resolve("conf/seed-example.yaml").toString();
  }

  private static String seedInput() {
    return "input.path=" + RepositoryRoot.resolve("data/seed/features.parquet");
  }

  /** Runs {@code body} on a local session of this test's own, stopped afterwards. */
  private static void withSpark(java.util.function.Consumer<SparkSession> body) {
    SparkSession spark = SparkSession.builder()
        .master("local[1]")
        .appName("spark-linear-cli-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    try {
      body.accept(spark);
    } finally {
      spark.stop();
    }
  }

  @Test
  void fitsTheFitExampleAndThenADivergingFitExitsOneWithOneMessage() throws IOException {
    String config = RepositoryRoot.resolve("conf/fit-example.yaml").toString();
    String input = "input.path=" + RepositoryRoot.resolve("data/fit/train.parquet");
    Path output = tmp.resolve("fit-out");
    Result result = execute("fit", config, "--set", input, "--set", "output.path=" + output, "--set", "fit.epochs=3",
        "--report");

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains("spark-linear fit: 2,000 rows in, 2,000 rows used, 3 epochs in")
        .contains("loss:    mse ");
    JsonNode summary = new ObjectMapper().readTree(output.resolve(RunSummary.FILE_NAME).toFile());
    assertThat(summary.get("fit").get("losses")).hasSize(3);
    assertThat(output.resolve("model.safetensors")).isNotEmptyFile();
    assertThat(output.resolve("_report.html")).isNotEmptyFile();

    Path diverged = tmp.resolve("fit-diverged");
    Result failed = execute("fit", config, "--set", input, "--set", "output.path=" + diverged, "--set",
        "fit.optimizer={type: sgd, lr: 1.0e+9}", "--set", "fit.epochs=60");
    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(failed.err()).startsWith("spark-linear: error: The fit diverged: the mean loss is ")
        .doesNotContain("--stacktrace");
    assertThat(diverged).doesNotExist();
  }

  @Test
  void runsTheSeedExampleAndExitsZero() throws IOException {
    Path output = tmp.resolve("seed-out");
    Result result = execute("run", seedConfig(), "--set", seedInput(), "--set", "output.path=" + output);

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("[30.0, 40.0, 50.0]")
        .contains("spark-linear: 3 rows in, 3 rows out")
        .contains("module:  Linear(in_features=4, out_features=3, bias=False)");
    JsonNode summary = new ObjectMapper().readTree(output.resolve(RunSummary.FILE_NAME).toFile());
    assertThat(summary.get("rows_out").asLong()).isEqualTo(3);
    assertThat(summary.get("config").get("output.path").asText()).isEqualTo(output.toString());
  }

  @Test
  void unknownConfigKeyExitsTwoNamingTheNearestKey() throws IOException {
    Path config = Files.writeString(tmp.resolve("typo.yaml"), Files.readString(Path.of(seedConfig()))
        .replace("  column: features", "  colum: features"));
    Result result = execute("run", config.toString());

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .startsWith("spark-linear: error: Invalid job config " + config)
        .contains("Unknown config key 'input.colum' in ")
        .contains("did you mean 'input.column'?")
        .doesNotContain("\tat ")
        .doesNotContain("--stacktrace");
  }

  @Test
  void missingInputPathExitsTwoWithOneLineNamingThePath() {
    Path input = tmp.resolve("no-such-input");
    Result result = execute("run", seedConfig(), "--set", "input.path=" + input, "--set",
        "output.path=" + tmp.resolve("out"));

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err().lines().filter(line -> line.startsWith("spark-linear:")).toList())
        .containsExactly("spark-linear: error: Cannot run " + seedConfig() + ": Input path " + input
            + " does not exist (input.path). Check the path, or run 'spark-linear generate' to make sample data.");
    assertThat(result.err()).doesNotContain("\tat ");
    assertThat(tmp.resolve("out")).doesNotExist();
  }

  @Test
  void missingConfigFileExitsTwoNamingTheFile() {
    Path config = tmp.resolve("no-such.yaml");
    Result result = execute("run", config.toString());

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err())
        .startsWith("spark-linear: error: Invalid job config " + config + ": Cannot read config file " + config
            + ": no such file")
        .hasLineCount(1)
        .doesNotContain("\tat ");
  }

  @Test
  void aFailureOfSparksOwnIsOneLineWithoutTheStackTraceItsMessageCarries() {
    RuntimeException failure = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 1.0 failed 1"
        + " times, most recent failure: java.io.IOException: disk full\n\tat org.example.Writer.write(Writer.java:1)"
        + "\n\nDriver stacktrace:\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages");
    StringWriter err = new StringWriter();

    int code = SparkLinear.report(failure, new PrintWriter(err), false);

    assertThat(code).isEqualTo(SparkLinear.FAILED);
    assertThat(err.toString().lines()).containsExactly("spark-linear: error: Job aborted due to stage failure: Task 0"
        + " in stage 1.0 failed 1 times, most recent failure: java.io.IOException: disk full",
        "(run again with --stacktrace for details)");
  }

  @Test
  void missingConfigArgumentIsAUsageErrorWithExitCodeTwo() {
    Result result = execute("run");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err()).contains("Missing required parameter: 'CONFIG'").contains("Usage: spark-linear run");
  }

  @Test
  void generateWritesSeededDataIndependentOfThePartitionCount() throws IOException {
    Path one = tmp.resolve("gen-1");
    Path five = tmp.resolve("gen-5");
    Path otherSeed = tmp.resolve("gen-seed-7");
    Result first = execute("generate", "--rows", "1000", "--dim", "8", "--out", one.toString(), "--partitions", "1");
    Result second = execute("generate", "--rows", "1000", "--dim", "8", "--out", five.toString(), "--partitions",
        "5");
    Result third = execute("generate", "--rows", "1000", "--dim", "8", "--out", otherSeed.toString(), "--seed", "7");

    assertThat(List.of(first.exitCode(), second.exitCode(), third.exitCode())).as(first.err() + second.err())
        .containsOnly(0);
    assertThat(first.out()).contains("wrote 1,000 rows x 8 features to " + one);
    assertThat(partFiles(one)).isEqualTo(1);
    assertThat(partFiles(five)).isEqualTo(5);

    withSpark(spark -> {
      Dataset<Row> a = spark.read().parquet(one.toString());
      Dataset<Row> b = spark.read().parquet(five.toString());
      Dataset<Row> c = spark.read().parquet(otherSeed.toString());
      assertThat(a.schema().simpleString()).isEqualTo("struct<id:bigint,features:array<float>>");
      assertThat(a.count()).isEqualTo(1000);
      Row ids = a.agg(functions.min("id"), functions.max("id"), functions.countDistinct("id")).first();
      assertThat(List.of(ids.getLong(0), ids.getLong(1), ids.getLong(2))).containsExactly(0L, 999L, 1000L);

      Dataset<Row> values = a.select(functions.explode(functions.col("features")).as("v"));
      Row range = values.agg(functions.min("v"), functions.max("v"), functions.count("v"),
          functions.countDistinct("v")).first();
      assertThat(range.getFloat(0)).isGreaterThanOrEqualTo(-4f);
      assertThat(range.getFloat(1)).isLessThan(4f);
      assertThat(range.getLong(2)).isEqualTo(8000);
      assertThat(range.getLong(3)).as("distinct values").isGreaterThan(7000);
      assertThat(a.where(functions.size(functions.col("features")).notEqual(8)).count()).isZero();

      assertThat(a.exceptAll(b).count()).as("rows only in the 1-partition data").isZero();
      assertThat(b.exceptAll(a).count()).as("rows only in the 5-partition data").isZero();
      assertThat(a.exceptAll(c).count()).as("rows the same with another seed").isEqualTo(1000);
    });
  }

  @Test
  void generateWithLabelAddsANoisyLinearTargetAndKeepsTheFeatures() throws IOException {
    Path plain = tmp.resolve("gen-plain");
    Path labelled = tmp.resolve("gen-label");
    Result first = execute("generate", "--rows", "500", "--dim", "4", "--out", plain.toString(), "--partitions", "1");
    Result second = execute("generate", "--rows", "500", "--dim", "4", "--out", labelled.toString(), "--label");
    assertThat(List.of(first.exitCode(), second.exitCode())).as(first.err() + second.err()).containsOnly(0);

    withSpark(spark -> {
      Dataset<Row> withLabel = spark.read().parquet(labelled.toString());
      assertThat(withLabel.schema().simpleString())
          .isEqualTo("struct<id:bigint,features:array<float>,label:double>");
      assertThat(withLabel.drop("label").exceptAll(spark.read().parquet(plain.toString())).count()).isZero();
      double largestNoise = 0;
      for (Row row : withLabel.collectAsList()) {
        List<Float> x = row.getList(1);
        double linear = 0.5;
        for (int k = 0; k < 4; k++) {
          linear += Math.sin(k + 1) * x.get(k) / 2;
        }
        largestNoise = Math.max(largestNoise, Math.abs(row.getDouble(2) - linear));
      }
      assertThat(largestNoise).isLessThan(0.1 + 1e-9).isGreaterThan(0.05);
    });
  }

  private static long partFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith("part-")).count();
    }
  }

  @Test
  void versionAndHelpExitZero() {
    Result version = execute("--version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.out()).startsWith("spark-linear ");

    Result help = execute("--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("Usage: spark-linear").contains("run").contains("generate");
    assertThat(help.err()).isEmpty();
  }
}
