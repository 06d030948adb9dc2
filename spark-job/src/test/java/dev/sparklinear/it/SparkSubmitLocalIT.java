package dev.sparklinear.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import dev.sparklinear.testing.SparkProcesses;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged job run as users run it: {@code spark-submit --master local[2] --class dev.sparklinear.job.SparkLinear
 * <spark-submit jar> run conf/seed-example.yaml}, in a JVM of its own with only Spark's jars on its class path, from
 * the repository root so that the example's relative paths resolve.
 */
class SparkSubmitLocalIT extends LocalSpark {
  // Far above the usual 10-20 s, for a busy two-core machine.
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final String MAIN_CLASS = "dev.sparklinear.job.SparkLinear";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path dir;

  private static SparkProcesses processes;

  @BeforeAll
  static void makeSparkHome() throws IOException {
    processes = SparkProcesses.create(dir);
  }

  /** spark-submit in local mode over the seed example, with {@code jobArgs} after {@code run conf/seed-example.yaml}. */
  private static SparkProcesses.Finished submitSeedExample(String name, String... jobArgs)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of(
        "--master", "local[2]",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.driver.host=" + SparkProcesses.LOOPBACK,
        "--conf", "spark.driver.bindAddress=" + SparkProcesses.LOOPBACK,
        "--class", MAIN_CLASS,
        processes.submitJar().toString(),
        "run", "conf/seed-example.yaml"));
    args.addAll(List.of(jobArgs));
    SparkProcesses.Finished run = processes.submit(name, RepositoryRoot.find(), TIMEOUT, args);
    System.out.printf("SparkSubmitLocalIT %s: spark-submit took %d ms%n", name, run.took().toMillis());
    return run;
  }

  @Test
  void seedExampleWritesKnownOutputsAndSummary() throws Exception {
    Path out = dir.resolve("seed-out");

    SparkProcesses.Finished run = submitSeedExample("seed", "--set", "output.path=" + out, "--show", "0");

    assertThat(run.exitCode()).as("spark-submit exit code\n%s", run.diagnostics()).isZero();
    // The seed example's weight [[1,2,3,4],[2,3,4,5],[3,4,5,6]] worked by hand on its three input rows.
    Map<Long, List<Float>> expected = Map.of(
        1L, List.of(30f, 40f, 50f),
        2L, List.of(1f, 2f, 3f),
        3L, List.of(0f, 0f, 0f));
    Map<Long, List<Float>> actual = new TreeMap<>();
    for (Row row : spark.read().parquet(out.toString()).collectAsList()) {
      actual.put(row.getAs("id"), row.<Float>getList(row.fieldIndex("output")));
    }
    assertThat(actual).as("output rows by id\n%s", run.diagnostics()).isEqualTo(expected);

    JsonNode summary = JSON.readTree(out.resolve("_spark_linear.json").toFile());
    assertThat(summary.path("rows_in").asLong(-1)).as("rows_in in %s", summary).isEqualTo(3);
    assertThat(summary.path("rows_out").asLong(-1)).as("rows_out in %s", summary).isEqualTo(3);
    // The master given to spark-submit, not the job's own local[*] default.
    assertThat(summary.path("master").asText()).isEqualTo("local[2]");
    assertThat(run.stdoutText()).contains("3 rows in, 3 rows out");
  }

  @Test
  void inFeaturesNotMatchingTheInlineWeightFailsWithOneClearMessage() throws Exception {
    Path out = dir.resolve("bad-config-out");

    SparkProcesses.Finished run = submitSeedExample("bad-config",
        "--set", "output.path=" + out, "--set", "module.in-features=5", "--show", "0");

    assertThat(run.exitCode()).as("exit code for a bad config\n%s", run.diagnostics()).isEqualTo(2);
    String stderr = run.stderrText();
    assertThat(stderr)
        .contains("spark-linear: error: Invalid job config conf/seed-example.yaml")
        .contains("module.weights.weight has shape [3, 4], expected [out_features, in_features] = [3, 5]")
        .doesNotContain("\tat ");
    assertThat(out).doesNotExist();
  }

  @Test
  void inFeaturesNotMatchingTheDataFailsBeforeAnyOutputIsWritten() throws Exception {
    Path out = dir.resolve("bad-width-out");

    // A randomly initialised 5 -> 3 layer: the config is valid, the 4-wide input is not.
    SparkProcesses.Finished run = submitSeedExample("bad-width",
        "--set", "output.path=" + out, "--set", "module.in-features=5", "--set", "module.weights.weight=null",
        "--set", "module.init-seed=1", "--show", "0");

    assertThat(run.exitCode()).as("exit code for input of the wrong width\n%s", run.diagnostics()).isEqualTo(2);
    assertThat(run.stderrText())
        .contains("spark-linear: error:")
        .contains("Column 'features' holds vectors of 4 values, but module.in-features is 5")
        .contains("mat1 and mat2 shapes cannot be multiplied (1x4 and 5x3)")
        .doesNotContain("\tat ");
    assertThat(out).doesNotExist();
  }
}
