package dev.sparklinear.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.testing.EventLog;
import dev.sparklinear.testing.InlineLayer;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.SparkProcesses;
import dev.sparklinear.testing.StandaloneCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged job on a real standalone cluster: a master and a worker in JVMs of their own on 127.0.0.1, the worker
 * running two one-core executors in JVMs of their own, and spark-submit in client mode as the driver. The input is
 * made here from a formula, so every output row is checked against a double-precision reference computed here.
 *
 * <p>The cluster is started and the job submitted once, in {@link #runJobOnCluster()}; each test checks one thing.
 */
class StandaloneClusterIT extends LocalSpark {
  private static final int ROWS = 20_000;
  private static final int FILES = 8;
  private static final int IN = 16;
  private static final int OUT = 4;
  private static final int BLOCK_ROWS = 1024;
  // Limits far above the usual times (cluster up in ~10 s, job in ~30 s), for a busy two-core machine.
  private static final Duration CLUSTER_START = Duration.ofSeconds(90);
  private static final Duration JOB = Duration.ofSeconds(180);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path dir;

  private static StandaloneCluster cluster;
  private static SparkProcesses.Finished run;
  private static Path output;
  private static Path events;
  /** Written with four decimals; the reference uses the same decimals read as floats, as the job does. */
  private static final InlineLayer LAYER = InlineLayer.of(IN, OUT, (o, j) -> Math.cos(1.7 * o + 0.45 * j), o -> 0.5 - 0.375 * o);

  /** Input feature {@code j} of row {@code id}: smooth, signed, and not exactly representable in decimal. */
  private static float feature(long id, int j) {
    return (float) Math.sin(0.0007 * id * (j + 1) + 0.3 * j);
  }

  @BeforeAll
  static void runJobOnCluster() throws Exception {
    long start = System.nanoTime();
    Path input = dir.resolve("input");
    output = dir.resolve("output");
    events = Files.createDirectories(dir.resolve("events"));
    writeInput(input);
    Path config = Files.writeString(dir.resolve("cluster-16x4.yaml"), LAYER.jobConfig(), StandardCharsets.UTF_8);

    SparkProcesses processes = SparkProcesses.create(dir);
    long clusterStart = System.nanoTime();
    cluster = StandaloneCluster.start(processes, dir.resolve("cluster"), 2, "2g", CLUSTER_START);
    long clusterUp = System.nanoTime();
    List<String> args = new ArrayList<>(cluster.twoExecutorSubmitOptions(events));
    args.addAll(List.of(
        "--class", "dev.sparklinear.job.SparkLinear",
        processes.submitJar().toString(),
        "run", config.toString(),
        "--set", "input.path=" + input,
        "--set", "output.path=" + output,
        "--set", "block.max-rows=" + BLOCK_ROWS,
        "--show", "0"));
    run = submitWithClusterLogs(processes, args);
    long end = System.nanoTime();
    System.out.printf("StandaloneClusterIT: data %d ms, cluster start %d ms, spark-submit %d ms, total %d ms%n",
        (clusterStart - start) / 1_000_000, (clusterUp - clusterStart) / 1_000_000, (end - clusterUp) / 1_000_000,
        (end - start) / 1_000_000);
    assertThat(run.exitCode()).as("spark-submit exit code\n%s", diagnostics()).isZero();
  }

  /** Runs the driver; a driver that does not end in time fails with the cluster's logs as well as its own. */
  private static SparkProcesses.Finished submitWithClusterLogs(SparkProcesses processes, List<String> args)
      throws IOException, InterruptedException {
    try {
      return processes.submit("driver", dir, JOB, args);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + cluster.diagnostics(), e);
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String diagnostics() {
    return (run == null ? "" : "driver: " + run.diagnostics()) + (cluster == null ? "" : cluster.diagnostics());
  }

  /** {@value #ROWS} rows of (id, features) in {@value #FILES} Parquet files, written by this JVM's local session. */
  private static void writeInput(Path input) {
    List<Row> rows = new ArrayList<>(ROWS);
    for (long id = 0; id < ROWS; id++) {
      float[] x = new float[IN];
      for (int j = 0; j < IN; j++) {
        x[j] = feature(id, j);
      }
      rows.add(RowFactory.create(id, x));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    spark.createDataFrame(rows, schema).repartition(FILES).write().parquet(input.toString());
  }


  @Test
  void everyOutputRowMatchesDoublePrecisionReference() {
    List<Row> rows = spark.read().parquet(output.toString()).collectAsList();

    assertThat(rows).hasSize(ROWS);
    Map<Long, Row> byId = new TreeMap<>();
    rows.forEach(row -> byId.put(row.getAs("id"), row));
    assertThat(byId.keySet()).as("output ids").containsExactlyElementsOf(
        IntStream.range(0, ROWS).mapToObj(i -> (long) i).toList());
    for (Map.Entry<Long, Row> entry : byId.entrySet()) {
      long id = entry.getKey();
      List<Float> y = entry.getValue().getList(entry.getValue().fieldIndex("output"));
      assertThat(y).as("output of row %d", id).hasSize(OUT);
      for (int o = 0; o < OUT; o++) {
        double reference = LAYER.reference(o, j -> feature(id, j));
        double magnitude = LAYER.magnitude(o, j -> feature(id, j));
        // float32 accumulation of 17 terms: relative error far below 1e-5 of the sum of the terms' magnitudes.
        double tolerance = 1e-5 * (1 + magnitude);
        assertThat((double) y.get(o)).as("row %d, output %d", id, o)
            .isCloseTo(reference, offset(tolerance));
      }
    }
  }

  @Test
  void summaryCountsEveryRowInAndOut() throws IOException {
    JsonNode summary = JSON.readTree(output.resolve("_spark_linear.json").toFile());

    assertThat(summary.path("rows_in").asLong(-1)).as("rows_in in %s", summary).isEqualTo(ROWS);
    assertThat(summary.path("rows_out").asLong(-1)).as("rows_out in %s", summary).isEqualTo(ROWS);
    assertThat(summary.path("blocks").asLong(-1)).as("blocks in %s", summary)
        .isGreaterThanOrEqualTo((ROWS + BLOCK_ROWS - 1) / BLOCK_ROWS);
    assertThat(summary.path("master").asText()).isEqualTo(cluster.masterUrl());
  }

  @Test
  void workerLaunchedTwoExecutorsAndBothRanTasks() throws IOException {
    List<Path> executors = cluster.executorDirs();
    assertThat(executors).as("executor folders under the worker's work dir\n%s", diagnostics()).hasSize(2);

    Map<String, Integer> tasksByExecutor = successfulTasksByExecutor();
    System.out.println("StandaloneClusterIT: successful tasks by executor " + tasksByExecutor);
    assertThat(tasksByExecutor.keySet()).as("executors that ran tasks\n%s", diagnostics())
        .containsExactlyInAnyOrderElementsOf(executors.stream().map(p -> p.getFileName().toString()).toList());
  }

  @Test
  void masterRecordsTheApplicationAsFinished() throws Exception {
    JsonNode finished = null;
    // Bounded poll: the driver tells the master it is done as it stops, which the master may handle a moment later.
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (finished == null && System.nanoTime() < deadline) {
      for (JsonNode app : cluster.masterState().path("completedapps")) {
        if ("FINISHED".equals(app.path("state").asText())) {
          finished = app;
        }
      }
      if (finished == null) {
        Thread.sleep(250);
      }
    }
    assertThat(finished).as("a FINISHED app in the master's state\n%s", cluster.masterState()).isNotNull();
    assertThat(finished.path("cores").asInt()).as("cores of %s", finished).isEqualTo(2);
  }

  /** Counts successful tasks per executor id in the driver's event log. */
  private static Map<String, Integer> successfulTasksByExecutor() throws IOException {
    Map<String, Integer> tasks = new TreeMap<>();
    for (EventLog.TaskEnd task : EventLog.read(events).taskEnds()) {
      if (task.succeeded()) {
        tasks.merge(task.executorId(), 1, Integer::sum);
      }
    }
    return tasks;
  }
}
