package dev.sparklinear.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.it.hooks.FailFirstAttemptHook;
import dev.sparklinear.it.hooks.SlowHook;
import dev.sparklinear.job.LinearJob;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.ClassesJar;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged job survives faults on a real standalone cluster (master, worker and two one-core executors, each a
 * JVM of its own on 127.0.0.1) and writes exactly the rows of a clean run: a hook class, shipped with {@code --jars},
 * that fails the first attempt of some tasks; and an executor JVM killed with SIGKILL while the job's tasks run.
 *
 * <p>The cluster is started once, in {@link #startClusterAndRunCleanJob()}, which also makes the clean run: the same
 * job, config and input, run in this JVM's local session with no fault and no hook. The clean run is checked against a
 * double-precision reference computed here; each fault is a spark-submit of its own, whose output is compared with the
 * clean run's by id.
 */
class FaultToleranceIT extends LocalSpark {
  private static final int ROWS = 48_000;
  private static final int FILES = 16;
  private static final int IN = 32;
  private static final int OUT = 8;
  // 3,000 rows per partition in blocks of 500: six hook calls per task.
  private static final int BLOCK_ROWS = 500;
  private static final List<Integer> FAILING_PARTITIONS = List.of(0, 5, 11);
  private static final int SLOW_MILLIS_PER_BLOCK = 100;
  // Limits far above the usual times (cluster up in ~10 s, a job in ~30 s), for a busy two-core machine.
  private static final Duration CLUSTER_START = Duration.ofSeconds(90);
  private static final Duration JOB = Duration.ofSeconds(150);
  private static final Duration EXECUTOR_BUSY = Duration.ofSeconds(90);
  private static final String MAIN_CLASS = "dev.sparklinear.job.SparkLinear";
  // An executor's log lines as a task starts and ends: "Running task 3.0 in stage 2.0 (TID 5)"; groups stage, TID.
  private static final double SAME_AS_CLEAN = 2e-5;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path dir;

  private static SparkProcesses processes;
  private static StandaloneCluster cluster;
  private static Path input;
  private static Path config;
  private static Path hookJar;
  /** Written with four decimals; the reference uses the same decimals read as floats, as the job does. */
  private static final InlineLayer LAYER = InlineLayer.of(IN, OUT, (o, j) -> Math.cos(1.7 * o + 0.45 * j) / 4, o -> 0.5 - 0.125 * o);
  private static Path cleanOutput;
  private static Map<Long, float[]> cleanRows;

  /** One finished spark-submit of the job: its process, its output, its event log. */
  private record Run(String name, SparkProcesses.Finished finished, Path output, Path events) {
    String diagnostics() {
      return name + ": " + finished.diagnostics() + cluster.diagnostics();
    }
  }

  /** Input feature {@code j} of row {@code id}: smooth, signed, and not exactly representable in decimal. */
  private static float feature(long id, int j) {
    return (float) Math.sin(0.0007 * id * (j + 1) + 0.3 * j);
  }

  @BeforeAll
  static void startClusterAndRunCleanJob() throws Exception {
    long start = System.nanoTime();
    input = dir.resolve("input");
    writeInput(input);
    config = Files.writeString(dir.resolve("faults-32x8.yaml"), LAYER.jobConfig(), StandardCharsets.UTF_8);
    // The hook classes travel in a jar of their own, as a user's would: the spark-submit jar has no test classes.
    hookJar = ClassesJar.write(dir.resolve("fault-hooks.jar"), FailFirstAttemptHook.class, SlowHook.class);
    long cleanStart = System.nanoTime();
    cleanOutput = dir.resolve("outputs").resolve("clean");
    // The same partitions, hence the same blocks, as on the cluster.
    spark.conf().set("spark.sql.files.maxPartitionBytes", "1m");
    new LinearJob(JobConfig.load(config, List.of("input.path=" + input, "output.path=" + cleanOutput,
        "block.max-rows=" + BLOCK_ROWS)), spark).run();
    cleanRows = outputById("clean", cleanOutput);

    processes = SparkProcesses.create(dir);
    long clusterStart = System.nanoTime();
    cluster = StandaloneCluster.start(processes, dir.resolve("cluster"), 2, "2g", CLUSTER_START);
    System.out.printf("FaultToleranceIT: data %d ms, clean run %d ms, cluster start %d ms%n",
        (cleanStart - start) / 1_000_000, (clusterStart - cleanStart) / 1_000_000,
        (System.nanoTime() - clusterStart) / 1_000_000);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void cleanRunMatchesDoublePrecisionReference() {
    assertThat(cleanRows.keySet()).as("ids of the clean run")
        .containsExactlyElementsOf(IntStream.range(0, ROWS).mapToObj(i -> (long) i).toList());
    for (Map.Entry<Long, float[]> entry : cleanRows.entrySet()) {
      long id = entry.getKey();
      float[] y = entry.getValue();
      for (int o = 0; o < OUT; o++) {
        double reference = LAYER.reference(o, j -> feature(id, j));
        double magnitude = LAYER.magnitude(o, j -> feature(id, j));
        // float32 accumulation of 33 terms: relative error far below 1e-5 of the sum of the terms' magnitudes.
        assertThat((double) y[o]).as("clean run, row %d, output %d", id, o)
            .isCloseTo(reference, offset(1e-5 * (1 + magnitude)));
      }
    }
    assertCompleteOutput("clean", cleanOutput);
  }

  @Test
  void tasksFailingOnTheirFirstAttemptAreRetriedAndTheOutputEqualsTheCleanRun() throws Exception {
    String hookClass = FailFirstAttemptHook.class.getName();
    try (JarFile submitJar = new JarFile(processes.submitJar().toFile())) {
      assertThat(submitJar.getEntry(hookClass.replace('.', '/') + ".class"))
          .as("the hook class must come from --jars only, not from the spark-submit jar").isNull();
    }
    String partitions = FAILING_PARTITIONS.stream().map(String::valueOf).collect(Collectors.joining(","));

    Run run = submit("fail-first-attempt", "--set",
        "hooks.forward=[{class: " + hookClass + ", partitions: '" + partitions + "', fail-at-block: 1}]");

    assertThat(run.finished().exitCode()).as("exit code\n%s", run.diagnostics()).isZero();
    EventLog events = EventLog.read(run.events());
    int stage = events.lastStageId();
    List<EventLog.TaskEnd> tasks = events.taskEnds().stream().filter(t -> t.stageId() == stage).toList();
    List<EventLog.TaskEnd> failed = tasks.stream().filter(t -> !t.succeeded()).toList();
    List<EventLog.TaskEnd> succeeded = tasks.stream().filter(EventLog.TaskEnd::succeeded).toList();
    System.out.printf("FaultToleranceIT fail-first-attempt: %d ms, %d failed and %d successful task attempts in"
        + " stage %d; failed %s%n", run.finished().took().toMillis(), failed.size(), succeeded.size(), stage,
        failed.stream().map(t -> "partition " + t.partition() + " attempt " + t.attempt() + " on executor "
            + t.executorId()).toList());

    // Exactly the listed partitions failed, once each, on an executor, with the hook's exception ...
    assertThat(failed).as("failed task attempts\n%s", run.diagnostics())
        .extracting(EventLog.TaskEnd::partition)
        .containsExactlyInAnyOrderElementsOf(FAILING_PARTITIONS);
    for (EventLog.TaskEnd task : failed) {
      assertThat(task.attempt()).as("attempt number of failed %s", task).isZero();
      assertThat(task.reason()).as("reason of failed %s", task).isEqualTo("ExceptionFailure");
      assertThat(task.endReason().path("Class Name").asText()).isEqualTo(IllegalStateException.class.getName());
      assertThat(task.endReason().path("Description").asText())
          .contains(FailFirstAttemptHook.MESSAGE + ": partition " + task.partition() + ", block 1");
      assertThat(task.executorId()).as("executor of failed %s", task).isNotEqualTo("driver");
    }
    // ... and every partition then succeeded exactly once: the listed ones on their second attempt.
    assertThat(succeeded).extracting(EventLog.TaskEnd::partition)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, FILES).boxed().toList());
    for (EventLog.TaskEnd task : succeeded) {
      assertThat(task.attempt()).as("attempt number of successful %s", task)
          .isEqualTo(FAILING_PARTITIONS.contains(task.partition()) ? 1 : 0);
    }
    // The driver's log tells the user the same.
    String driverLog = run.finished().stderrText();
    for (int partition : FAILING_PARTITIONS) {
      assertThat(driverLog).as("driver log").containsPattern(
          "Lost task " + partition + "\\.0 in stage " + stage + "\\.0 \\(TID \\d+\\).*"
              + Pattern.quote(FailFirstAttemptHook.MESSAGE));
    }

    assertSameRowsAsCleanRun(run);
    assertCompleteOutput(run.name(), run.output());
  }

  @Test
  void executorKilledWithSigkillWhileTasksRunIsReplacedAndTheOutputEqualsTheCleanRun() throws Exception {
    Path output = dir.resolve("outputs").resolve("kill-executor");
    Path events = Files.createDirectories(dir.resolve("events").resolve("kill-executor"));
    Set<String> earlierApps = cluster.appIds();
    SparkProcesses.Submitted submitted = processes.startSubmit("kill-executor", dir, submitArgs(output, events,
        "--set", "hooks.forward=[{class: " + SlowHook.class.getName() + ", millis: " + SLOW_MILLIS_PER_BLOCK + "}]"));
    SparkProcesses.Finished finished;
    String killed;
    String appId;
    try {
      appId = cluster.awaitNewActiveApp(submitted, earlierApps, EXECUTOR_BUSY);
      Map.Entry<String, ProcessHandle> victim = cluster.awaitExecutor(submitted, appId, EXECUTOR_BUSY,
          "got to its second task of a stage", FaultToleranceIT::runningASecondTaskOfAStage);
      killed = victim.getKey();
      ProcessHandle process = victim.getValue();
      System.out.printf("FaultToleranceIT kill-executor: SIGKILL to executor %s (pid %d) of %s%n", killed,
          process.pid(), appId);
      // destroyForcibly() is SIGKILL on Linux: no shutdown hook, no goodbye to the driver or the worker.
      assertThat(process.destroyForcibly()).as("SIGKILL sent to executor %s", killed).isTrue();
      process.onExit().get(10, TimeUnit.SECONDS);
      finished = submitted.await(JOB);
    } finally {
      submitted.stop();
    }
    Run run = new Run("kill-executor", finished, output, events);

    assertThat(finished.exitCode()).as("exit code\n%s", run.diagnostics()).isZero();
    EventLog log = EventLog.read(events);
    int stage = log.lastStageId();
    List<EventLog.TaskEnd> tasks = log.taskEnds().stream().filter(t -> t.stageId() == stage).toList();
    List<EventLog.TaskEnd> lost = tasks.stream().filter(t -> !t.succeeded()).toList();
    List<EventLog.TaskEnd> succeeded = tasks.stream().filter(EventLog.TaskEnd::succeeded).toList();
    System.out.printf("FaultToleranceIT kill-executor: %d ms; stage %d: %d task attempts lost %s, %d succeeded"
        + " (by executor %s); executor folders %s%n", finished.took().toMillis(), stage, lost.size(),
        lost.stream().map(t -> "partition " + t.partition() + " attempt " + t.attempt() + " " + t.reason()).toList(),
        succeeded.size(), succeeded.stream().collect(Collectors.groupingBy(EventLog.TaskEnd::executorId,
            TreeMap::new, Collectors.counting())), executorFolders(appId));

    // The driver saw the executor go, and the task it was running was lost with it (the kill hit a running job) ...
    assertThat(log.events("SparkListenerExecutorRemoved")).as("executors removed\n%s", run.diagnostics())
        .extracting(e -> e.path("Executor ID").asText()).contains(killed);
    assertThat(finished.stderrText()).as("driver log").contains("Lost executor " + killed + " on");
    assertThat(lost).as("task attempts lost in the job's last stage\n%s", run.diagnostics()).isNotEmpty()
        .allSatisfy(t -> {
          assertThat(t.reason()).isEqualTo("ExecutorLostFailure");
          assertThat(t.executorId()).isEqualTo(killed);
        });
    // ... the tasks it had finished before were not run again, and every partition succeeded exactly once.
    assertThat(succeeded).as("successful task attempts").extracting(EventLog.TaskEnd::partition)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, FILES).boxed().toList());
    assertThat(succeeded).as("tasks the killed executor finished before it was killed")
        .anyMatch(t -> t.executorId().equals(killed));
    // The worker saw its executor end by SIGKILL (exit status 128 + 9).
    assertThat(Files.readString(processes.stderrLog("worker"))).as("worker log")
        .contains("Executor " + appId + "/" + killed + " finished with state EXITED message Command exited with code"
            + " 137");

    assertSameRowsAsCleanRun(run);
    assertCompleteOutput(run.name(), run.output());
  }

  /**
   * Whether an executor has finished a task of a stage and is running another task of the same stage: the job's main
   * stage is under way and a task is in flight on it (the job's earlier one-task stage cannot match).
   */
  private static boolean runningASecondTaskOfAStage(StandaloneCluster.ExecutorTasks tasks) {
    return tasks.runningStageByTask().values().stream().anyMatch(tasks.stagesWithFinishedTask()::contains);
  }

  private static List<String> executorFolders(String appId) throws IOException {
    try (Stream<Path> ids = Files.list(cluster.workerWorkDir().resolve(appId))) {
      return ids.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Runs the job on the cluster, with its own output folder and event log, and waits for it to end. */
  private static Run submit(String name, String... jobArgs) throws IOException, InterruptedException {
    Path output = dir.resolve("outputs").resolve(name);
    Path events = Files.createDirectories(dir.resolve("events").resolve(name));
    try {
      return new Run(name, processes.submit(name, dir, JOB, submitArgs(output, events, jobArgs)), output, events);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + cluster.diagnostics(), e);
    }
  }

  private static List<String> submitArgs(Path output, Path events, String... jobArgs) {
    List<String> args = new ArrayList<>(cluster.twoExecutorSubmitOptions(events));
    args.addAll(List.of(
        // Spark's default, stated because the tests rely on it: a task may fail three times and still be retried.
        "--conf", "spark.task.maxFailures=4",
        "--jars", hookJar.toString(),
        "--class", MAIN_CLASS,
        processes.submitJar().toString(),
        "run", config.toString(),
        "--set", "input.path=" + input,
        "--set", "output.path=" + output,
        "--set", "block.max-rows=" + BLOCK_ROWS,
        "--show", "0"));
    args.addAll(List.of(jobArgs));
    return args;
  }

  /** The output vector of every row, by id; fails on a duplicated id. */
  private static Map<Long, float[]> outputById(String name, Path output) {
    List<Row> rows = spark.read().parquet(output.toString()).collectAsList();
    Map<Long, float[]> byId = new TreeMap<>();
    for (Row row : rows) {
      List<Float> y = row.getList(row.fieldIndex("output"));
      float[] values = new float[y.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = y.get(i);
      }
      long id = row.getAs("id");
      assertThat(byId.put(id, values)).as("%s: a second row with id %d", name, id).isNull();
    }
    return byId;
  }

  /**
   * The same ids as the clean run, each exactly once, with the same outputs. The clean run's JVM compiles the kernel
   * with C2 and the executors only with C1, which may sum in another order, so values may differ in their last bits:
   * the tolerance, {@value #SAME_AS_CLEAN} absolute, is tens of float32 ulps at the outputs' largest magnitudes (~8)
   * and far below any difference a lost or mixed-up row would make.
   */
  private static void assertSameRowsAsCleanRun(Run run) {
    Map<Long, float[]> actual = outputById(run.name(), run.output());

    assertThat(actual.keySet()).as("%s: ids", run.name()).containsExactlyElementsOf(cleanRows.keySet());
    double maxDifference = 0;
    long bitIdentical = 0;
    List<String> differing = new ArrayList<>();
    for (Map.Entry<Long, float[]> entry : actual.entrySet()) {
      float[] expected = cleanRows.get(entry.getKey());
      float[] y = entry.getValue();
      bitIdentical += Arrays.equals(y, expected) ? 1 : 0;
      if (y.length != expected.length) {
        differing.add("id " + entry.getKey() + ": " + y.length + " outputs");
        continue;
      }
      for (int o = 0; o < y.length; o++) {
        double difference = Math.abs((double) y[o] - expected[o]);
        maxDifference = Math.max(maxDifference, difference);
        if (!(difference <= SAME_AS_CLEAN)) {
          differing.add("id " + entry.getKey() + ", output " + o + ": " + y[o] + " vs " + expected[o]);
        }
      }
    }
    System.out.printf("FaultToleranceIT %s: %d of %d rows bit-identical to the clean run, largest difference %.3g%n",
        run.name(), bitIdentical, actual.size(), maxDifference);
    assertThat(differing).as("%s: outputs differing from the clean run's", run.name()).isEmpty();
  }

  /**
   * The output is complete and in place: {@code _SUCCESS} and the run summary counting every row in and out, and no
   * staging folder left beside it.
   */
  private static void assertCompleteOutput(String name, Path output) {
    assertThat(output.resolve("_SUCCESS")).as("%s: _SUCCESS", name).isRegularFile();
    assertThat(output.resolve("_temporary")).as("%s: task attempts' leftovers", name).doesNotExist();
    try {
      JsonNode summary = JSON.readTree(output.resolve("_spark_linear.json").toFile());
      assertThat(summary.path("rows_in").asLong(-1)).as("%s: rows_in in %s", name, summary).isEqualTo(ROWS);
      assertThat(summary.path("rows_out").asLong(-1)).as("%s: rows_out in %s", name, summary).isEqualTo(ROWS);
      try (Stream<Path> siblings = Files.list(output.getParent())) {
        String staging = "." + output.getFileName() + ".spark-linear-";
        assertThat(siblings.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(staging)).toList())
            .as("%s: staging folders left beside the output", name).isEmpty();
      }
    } catch (IOException e) {
      throw new AssertionError(name + ": cannot read the output's summary or folder", e);
    }
  }

  /**
   * {@value #ROWS} rows of (id, features) in {@value #FILES} Parquet files, made by this JVM's local session from the
   * same double-precision expression as {@link #feature} (Spark's {@code sin} is {@link Math#sin}).
   */
  private static void writeInput(Path input) {
    Column id = functions.col("id");
    Column[] features = new Column[IN];
    for (int j = 0; j < IN; j++) {
      features[j] = functions.sin(functions.lit(0.0007).multiply(id).multiply((double) (j + 1)).plus(0.3 * j))
          .cast(DataTypes.FloatType);
    }
    spark.range(0, ROWS, 1, FILES)
        .select(id, functions.array(features).as("features"))
        .write().parquet(input.toString());
  }

}
