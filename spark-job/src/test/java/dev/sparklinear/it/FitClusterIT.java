package dev.sparklinear.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.job.FitJob;
import dev.sparklinear.job.FitSummary;
import dev.sparklinear.it.hooks.KillOneTaskListener;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.ClassesJar;
import dev.sparklinear.testing.EventLog;
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
import java.util.concurrent.TimeUnit;
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
 * {@code spark-linear fit} through spark-submit on a real standalone cluster (a master and two one-core workers, each
 * launching one executor, each a JVM of its own on 127.0.0.1): the fit gives the parameters and losses of the same fit
 * run in this JVM's local session, and still does
 *
 * <ul>
 *   <li>when one task attempt of an epoch is killed while it runs, the executor staying up: a listener in the driver
 *       ({@link KillOneTaskListener}, given with {@code --jars} and {@code spark.extraListeners}) calls {@code
 *       SparkContext.killTaskAttempt} as the driver posts the start of the first attempt of partition 1 in the third
 *       epoch (or of a later epoch, should the kill come after a task's end). The event log shows that attempt ended
 *       {@code TaskKilled} and a later attempt of the same stage and partition succeeded; the executor's log that the
 *       kill reached it while it still had the task. The fit runs with {@code spark.task.maxFailures=1}: a killed
 *       attempt does not count as a failure of its task ({@code TaskKilled.countTowardsTaskFailures} is false), so
 *       Spark runs it again however low the limit;
 *   <li>when an executor JVM is killed with SIGKILL in the middle of the epochs (its running task and its cached blocks
 *       are lost; Spark runs the task again, reading the lost partitions from the input again).
 * </ul>
 *
 * <p>The executors compile with C1 only and the local run with C2, which may round the kernels' sums differently, so
 * parameters are compared within 1e-5 of each tensor's largest value and losses within 1e-6 relative: far below what
 * a lost, doubled or mixed-up partition would change.
 */
class FitClusterIT extends LocalSpark {
  private static final int ROWS = 24_000;
  private static final int FILES = 8;
  private static final int IN = 16;
  private static final int EPOCHS = 60;
  private static final int KILL_EPOCH = 3;
  private static final int KILL_PARTITION = 1;
  private static final String MAIN_CLASS = "dev.sparklinear.job.SparkLinear";
  private static final Duration CLUSTER_START = Duration.ofSeconds(90);
  private static final Duration JOB = Duration.ofSeconds(240);
  private static final Duration EXECUTOR_BUSY = Duration.ofSeconds(120);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path dir;

  private static SparkProcesses processes;
  private static StandaloneCluster cluster;
  private static Path input;
  private static Path config;
  private static Path localOutput;
  private static FitSummary local;

  @BeforeAll
  static void fitLocallyAndStartCluster() throws Exception {
    input = dir.resolve("input");
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("y", DataTypes.DoubleType, false);
    for (int f = 0; f < FILES; f++) {
      List<Row> rows = new ArrayList<>();
      for (long id = (long) f * ROWS / FILES; id < (long) (f + 1) * ROWS / FILES; id++) {
        List<Float> x = new ArrayList<>();
        double y = 0.2;
        for (int j = 0; j < IN; j++) {
          float value = (float) Math.sin(0.0011 * id * (j + 1) + 0.7 * j);
          x.add(value);
          y += Math.cos(0.5 * j) * value * (j % 3 == 0 ? value : 1) / 4;
        }
        rows.add(RowFactory.create(id, x, y));
      }
      spark.createDataFrame(rows, schema).coalesce(1).write().mode("append").parquet(input.toString());
    }
    config = Files.writeString(dir.resolve("fit-cluster.yaml"), """
        module:
          layers:
            - {type: linear, in-features: %d, out-features: 16}
            - gelu
            - {type: linear, in-features: 16, out-features: 1}
          init-seed: 11
        input: {path: %s, column: features}
        output: {path: unset, mode: overwrite}
        fit:
          label-column: y
          loss: mse
          optimizer: {type: adam, lr: 0.01}
          epochs: %d
        """.formatted(IN, input, EPOCHS), StandardCharsets.UTF_8);
    // One partition per file, as on the cluster (spark.sql.files.maxPartitionBytes=1m there too).
    spark.conf().set("spark.sql.files.maxPartitionBytes", "1m");
    localOutput = dir.resolve("outputs").resolve("local");
    local = new FitJob(JobConfig.load(config, List.of("output.path=" + localOutput)), spark, false).fit();
    assertThat(local.partitions()).isEqualTo(FILES);

    processes = SparkProcesses.create(dir);
    // Two workers of one core each: one executor on each, as on a cluster of two machines.
    cluster = StandaloneCluster.start(processes, dir.resolve("cluster"), 2, 1, "1g", CLUSTER_START);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aFitOnTheClusterGivesTheParametersAndLossesOfTheLocalFit() throws Exception {
    Path output = dir.resolve("outputs").resolve("cluster");
    Path events = Files.createDirectories(dir.resolve("events").resolve("cluster"));
    SparkProcesses.Finished finished =
        processes.submit("fit-cluster", dir, JOB, submitArgs(output, events, 4, List.of()));

    assertThat(finished.exitCode()).as("exit code\n%s%s", finished.diagnostics(), cluster.diagnostics()).isZero();
    assertThat(finished.stdoutText()).contains("spark-linear fit: 24,000 rows in, 24,000 rows used, 60 epochs");
    assertSameFitAsLocal("cluster", output);
    // Every epoch ran its tasks on the executors, none on the driver.
    EventLog log = EventLog.read(events);
    assertThat(log.taskEnds()).isNotEmpty().allSatisfy(t -> assertThat(t.executorId()).isNotEqualTo("driver"));
  }

  @Test
  void anExecutorKilledInTheMiddleOfTheEpochsIsReplacedAndTheFitIsUnchanged() throws Exception {
    Path output = dir.resolve("outputs").resolve("kill-executor");
    Path events = Files.createDirectories(dir.resolve("events").resolve("kill-executor"));
    Set<String> earlierApps = cluster.appIds();
    SparkProcesses.Submitted submitted =
        processes.startSubmit("fit-kill-executor", dir, submitArgs(output, events, 4, List.of()));
    SparkProcesses.Finished finished;
    String killed;
    try {
      String appId = cluster.awaitNewActiveApp(submitted, earlierApps, EXECUTOR_BUSY);
      Map.Entry<String, ProcessHandle> victim = cluster.awaitExecutor(submitted, appId, EXECUTOR_BUSY,
          "got to an epoch", FitClusterIT::runningATaskOfAnEpoch);
      killed = victim.getKey();
      System.out.printf("FitClusterIT: SIGKILL to executor %s (pid %d) of %s%n", killed, victim.getValue().pid(),
          appId);
      assertThat(victim.getValue().destroyForcibly()).isTrue();
      victim.getValue().onExit().get(10, TimeUnit.SECONDS);
      finished = submitted.await(JOB);
    } finally {
      submitted.stop();
    }

    assertThat(finished.exitCode()).as("exit code\n%s%s", finished.diagnostics(), cluster.diagnostics()).isZero();
    EventLog log = EventLog.read(events);
    assertThat(log.events("SparkListenerExecutorRemoved")).extracting(e -> e.path("Executor ID").asText())
        .contains(killed);
    List<EventLog.TaskEnd> lost = log.taskEnds().stream().filter(t -> !t.succeeded()).toList();
    System.out.printf("FitClusterIT kill-executor: %d ms, task attempts lost: %s%n", finished.took().toMillis(),
        lost.stream().map(t -> "stage " + t.stageId() + " partition " + t.partition() + " " + t.reason()).toList());
    // The task the executor was running was lost with it and run again, successfully, on the other executor.
    assertThat(lost).isNotEmpty().allSatisfy(t -> {
      assertThat(t.reason()).isEqualTo("ExecutorLostFailure");
      assertThat(t.executorId()).isEqualTo(killed);
    });
    for (EventLog.TaskEnd task : lost) {
      assertThat(log.taskEnds()).as("a later successful attempt of %s", task).anyMatch(t -> t.succeeded()
          && t.stageId() == task.stageId() && t.partition() == task.partition() && t.attempt() > task.attempt());
    }
    assertSameFitAsLocal("kill-executor", output);
  }

  @Test
  void aTaskAttemptKilledInTheMiddleOfAnEpochIsRetriedAndTheFitIsUnchanged() throws Exception {
    Path output = dir.resolve("outputs").resolve("kill-task");
    Path events = Files.createDirectories(dir.resolve("events").resolve("kill-task"));
    // The listener travels in a jar of its own, as a user's would: the spark-submit jar has no test classes.
    Path listenerJar = ClassesJar.write(dir.resolve("kill-task-listener.jar"), KillOneTaskListener.class);
    // spark.task.maxFailures=1: no failed attempt at all is allowed, and a killed attempt is not a failed one.
    SparkProcesses.Finished finished = processes.submit("fit-kill-task", dir, JOB, submitArgs(output, events, 1,
        List.of("--jars", listenerJar.toString(),
            "--conf", "spark.extraListeners=" + KillOneTaskListener.class.getName(),
            "--conf", KillOneTaskListener.EPOCH + "=" + KILL_EPOCH,
            "--conf", KillOneTaskListener.PARTITION + "=" + KILL_PARTITION)));

    assertThat(finished.exitCode()).as("exit code\n%s%s", finished.diagnostics(), cluster.diagnostics()).isZero();
    assertThat(finished.stdoutText()).contains("spark-linear fit: 24,000 rows in, 24,000 rows used, 60 epochs");
    List<String> listenerLines = finished.stderrText().lines()
        .filter(line -> line.startsWith(KillOneTaskListener.LOG_PREFIX)).toList();
    EventLog log = EventLog.read(events);
    List<EventLog.TaskEnd> tasks = log.taskEnds();

    // Exactly one task attempt did not succeed: the first attempt of the chosen partition, killed by the listener ...
    List<EventLog.TaskEnd> notSucceeded = tasks.stream().filter(t -> !t.succeeded()).toList();
    assertThat(notSucceeded).as("task attempts that did not succeed; the listener said:\n%s\n%s",
        String.join("\n", listenerLines), finished.diagnostics()).hasSize(1);
    EventLog.TaskEnd killed = notSucceeded.get(0);
    assertThat(killed.reason()).isEqualTo("TaskKilled");
    assertThat(killed.endReason().path("Kill Reason").asText()).isEqualTo(KillOneTaskListener.REASON);
    assertThat(killed.partition()).isEqualTo(KILL_PARTITION);
    assertThat(killed.attempt()).isZero();
    assertThat(listenerLines).contains(KillOneTaskListener.LOG_PREFIX + " TID " + killed.taskId() + " ended: killed");
    // ... in an epoch: a stage after the one that read the input and cached it (the first stage of FILES tasks) ...
    int cachingStage = tasks.stream().filter(t -> t.partition() == FILES - 1).mapToInt(EventLog.TaskEnd::stageId)
        .min().orElseThrow();
    assertThat(killed.stageId()).as("stage of the killed attempt").isGreaterThan(cachingStage);
    // ... while it ran: an executor logs that it is trying to kill a task only for a task it has not finished.
    String appId = log.events("SparkListenerApplicationStart").get(0).path("App ID").asText();
    String taskName = "task " + KILL_PARTITION + ".0 in stage " + killed.stageId() + ".0 (TID " + killed.taskId() + ")";
    List<String> executorLines = Files.readString(cluster.executorDir(appId, killed.executorId()).resolve("stderr"))
        .lines().filter(line -> line.contains(taskName)).toList();
    assertThat(executorLines).as("executor %s's log of %s", killed.executorId(), taskName)
        .anyMatch(line -> line.contains("Executor is trying to kill " + taskName + ", interruptThread: true"))
        .anyMatch(line -> line.contains("killed " + taskName));

    // Spark ran the partition again, once, successfully: a later attempt of the same stage and partition ...
    List<EventLog.TaskEnd> retries = tasks.stream()
        .filter(t -> t.stageId() == killed.stageId() && t.partition() == killed.partition() && t.succeeded()).toList();
    assertThat(retries).hasSize(1).allSatisfy(t -> assertThat(t.attempt()).isGreaterThan(killed.attempt()));
    EventLog.TaskEnd retry = retries.get(0);
    // ... and the executor stayed: no executor was replaced, and the one that ran the killed attempt ran later epochs.
    assertThat(log.events("SparkListenerExecutorAdded")).hasSize(2);
    assertThat(tasks).as("later successful tasks on executor %s", killed.executorId()).anyMatch(t -> t.succeeded()
        && t.executorId().equals(killed.executorId()) && t.stageId() > killed.stageId());

    long tries = listenerLines.stream().filter(line -> line.contains("killTaskAttempt(")).count();
    System.out.printf("FitClusterIT kill-task: %d ms, killed TID %d (stage %d, partition %d, attempt %d) on executor %s"
        + " at kill try %d, retried as TID %d (attempt %d) on executor %s; executor: %s%n",
        finished.took().toMillis(), killed.taskId(), killed.stageId(), killed.partition(), killed.attempt(),
        killed.executorId(), tries, retry.taskId(), retry.attempt(), retry.executorId(),
        executorLines.stream().filter(line -> line.contains("killed " + taskName)).findFirst()
            .map(line -> line.substring(line.indexOf("Executor "))).orElse("?"));
    listenerLines.forEach(line -> System.out.println("FitClusterIT kill-task: " + line));
    assertSameFitAsLocal("kill-task", output);
  }

  /** The cluster's checkpoint and losses against the local fit's; counts exact. */
  private static void assertSameFitAsLocal(String name, Path output) throws IOException {
    JsonNode summary = new ObjectMapper().readTree(output.resolve("_spark_linear.json").toFile());
    assertThat(summary.get("rows_used").asLong()).as(name).isEqualTo(ROWS);
    assertThat(summary.get("partitions").asInt()).as(name).isEqualTo(FILES);
    JsonNode losses = summary.get("fit").get("losses");
    assertThat(losses).hasSize(EPOCHS);
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
      double expected = local.losses().get(epoch);
      assertThat(losses.get(epoch).asDouble()).as("%s: loss of epoch %d", name, epoch + 1)
          .isCloseTo(expected, within(1e-6 * expected));
    }
    SafetensorsFile expected = SafetensorsReader.read(localOutput.resolve("model.safetensors"));
    SafetensorsFile actual = SafetensorsReader.read(output.resolve("model.safetensors"));
    assertThat(actual.tensors().keySet()).isEqualTo(expected.tensors().keySet());
    boolean identical = true;
    for (String key : expected.tensors().keySet()) {
      float[] e = expected.tensor(key).toArray();
      float[] a = actual.tensor(key).toArray();
      identical &= Arrays.equals(a, e);
      double scale = 0;
      for (float value : e) {
        scale = Math.max(scale, Math.abs(value));
      }
      for (int i = 0; i < e.length; i++) {
        assertThat((double) a[i]).as("%s: %s[%d]", name, key, i).isCloseTo(e[i], within(1e-5 * scale));
      }
    }
    System.out.printf("FitClusterIT %s: parameters %s the local fit's%n", name,
        identical ? "bit-identical to" : "within tolerance of");
  }

  private static List<String> submitArgs(Path output, Path events, int maxFailures, List<String> moreOptions) {
    List<String> args = new ArrayList<>(cluster.twoExecutorSubmitOptions(events));
    args.addAll(List.of("--conf", "spark.task.maxFailures=" + maxFailures));
    args.addAll(moreOptions);
    args.addAll(List.of(
        "--class", MAIN_CLASS,
        processes.submitJar().toString(),
        "fit", config.toString(),
        "--set", "output.path=" + output));
    return args;
  }

  /**
   * Whether an executor has finished tasks of at least four stages (reading the input, then epochs) and is running a
   * task now: the fit is in its epochs and a task is in flight.
   */
  private static boolean runningATaskOfAnEpoch(StandaloneCluster.ExecutorTasks tasks) {
    return tasks.stagesWithFinishedTask().size() >= 4 && !tasks.runningStageByTask().isEmpty();
  }
}
