package dev.sparklinear.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on the loopback address: one master and one or more workers, each in a JVM of its
 * own, started from the Maven jars through {@link SparkProcesses}. The workers start executors as JVMs of their own,
 * as on a real cluster. Closing it stops the workers with their executors, then the master.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.start(spark, dir, 2, "2g", Duration.ofSeconds(60))) {
 *   spark.submit("job", dir, timeout, List.of("--master", cluster.masterUrl(), ...));
 * }
 * }</pre>
 */
public final class StandaloneCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EXECUTOR_MAIN = "org.apache.spark.executor.CoarseGrainedExecutorBackend";

  private final SparkProcesses spark;
  private final int masterPort;
  private final int masterUiPort;
  private final Path dir;
  /** The workers' names (their log files) and work dirs, in start order. */
  private final List<String> workerNames = new ArrayList<>();
  private final List<Path> workerWorkDirs = new ArrayList<>();
  private final HttpClient http;
  private Process master;
  private final List<Process> workers = new ArrayList<>();

  private StandaloneCluster(SparkProcesses spark, Path dir) {
    this.spark = spark;
    this.masterPort = SparkProcesses.freePort();
    this.masterUiPort = SparkProcesses.freePort();
    this.dir = dir;
    this.http = HttpClient.newBuilder()
        .proxy(HttpClient.Builder.NO_PROXY)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }

  /**
   * Starts a master, then a worker with {@code cores} and {@code memory} (e.g. {@code "2g"}), and returns once the
   * master lists the worker as alive. Fails, with the tail of the logs, when that takes longer than {@code timeout}
   * or either process ends; whatever was started is stopped then.
   */
  public static StandaloneCluster start(SparkProcesses spark, Path dir, int cores, String memory, Duration timeout)
      throws IOException, InterruptedException {
    return start(spark, dir, 1, cores, memory, timeout);
  }

  /** As {@link #start(SparkProcesses, Path, int, String, Duration)}, with {@code workerCount} workers alike. */
  public static StandaloneCluster start(SparkProcesses spark, Path dir, int workerCount, int cores, String memory,
      Duration timeout) throws IOException, InterruptedException {
    StandaloneCluster cluster = new StandaloneCluster(spark, Files.createDirectories(dir));
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      // No REST submission server: it would listen on the fixed port 6066, and nothing here uses it.
      cluster.master = spark.start("master", "org.apache.spark.deploy.master.Master",
          List.of("-Xmx512m", "-Dspark.master.rest.enabled=false"),
          List.of("--host", SparkProcesses.LOOPBACK, "--port", String.valueOf(cluster.masterPort),
              "--webui-port", String.valueOf(cluster.masterUiPort)),
          dir);
      cluster.awaitState("the master to be ALIVE", s -> "ALIVE".equals(s.path("status").asText()), deadline);

      for (int i = 1; i <= workerCount; i++) {
        String name = i == 1 ? "worker" : "worker-" + i;
        Path workDir = Files.createDirectories(dir.resolve(name + "-work"));
        cluster.workerNames.add(name);
        cluster.workerWorkDirs.add(workDir);
        cluster.workers.add(spark.start(name, "org.apache.spark.deploy.worker.Worker", List.of("-Xmx512m"),
            List.of(cluster.masterUrl(), "--host", SparkProcesses.LOOPBACK,
                "--port", String.valueOf(SparkProcesses.freePort()),
                "--webui-port", String.valueOf(SparkProcesses.freePort()),
                "--cores", String.valueOf(cores), "--memory", memory,
                "--work-dir", workDir.toString()),
            dir));
      }
      cluster.awaitState("the workers to register", s -> aliveWorkers(s) == workerCount, deadline);
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  public String masterUrl() {
    return "spark://" + SparkProcesses.LOOPBACK + ":" + masterPort;
  }

  /**
   * The spark-submit options both cluster tests run with: client mode with the driver on loopback, two one-core
   * executors on the worker's two cores (both registered before the first job runs), one partition per input file
   * (so that there are more tasks than executors), and an uncompressed event log in {@code events}.
   */
  public List<String> twoExecutorSubmitOptions(Path events) {
    return List.of(
        "--master", masterUrl(),
        "--deploy-mode", "client",
        "--conf", "spark.driver.host=" + SparkProcesses.LOOPBACK,
        "--conf", "spark.driver.bindAddress=" + SparkProcesses.LOOPBACK,
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.executor.cores=1",
        "--conf", "spark.executor.memory=512m",
        "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", SparkProcesses.SHORT_LIVED_JVM),
        "--conf", "spark.cores.max=2",
        "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
        "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=60s",
        "--conf", "spark.sql.files.maxPartitionBytes=1m",
        "--conf", "spark.eventLog.enabled=true",
        "--conf", "spark.eventLog.dir=" + events.toUri(),
        "--conf", "spark.eventLog.compress=false");
  }

  /** The (first) worker's work dir: one {@code app-*} folder per application, one folder per executor in it. */
  public Path workerWorkDir() {
    return workerWorkDirs.get(0);
  }

  /** The folder of executor {@code executorId} of application {@code appId}, on whichever worker launched it. */
  public Path executorDir(String appId, String executorId) {
    return workerWorkDirs.stream().map(work -> work.resolve(appId).resolve(executorId)).filter(Files::isDirectory)
        .findFirst().orElse(workerWorkDir().resolve(appId).resolve(executorId));
  }

  /** The folders of the executors the workers launched ({@code app-*}/{@code <executor id>}), worker by worker. */
  public List<Path> executorDirs() throws IOException {
    List<Path> executors = new ArrayList<>();
    for (Path work : workerWorkDirs) {
      if (!Files.isDirectory(work)) {
        continue;
      }
      try (Stream<Path> apps = Files.list(work)) {
        for (Path app : apps.filter(Files::isDirectory).sorted().toList()) {
          try (Stream<Path> ids = Files.list(app)) {
            ids.filter(Files::isDirectory).sorted().forEach(executors::add);
          }
        }
      }
    }
    return executors;
  }

  /**
   * The executor JVMs of application {@code appId} that are running now, by executor id: the children of the workers
   * whose main class is {@code CoarseGrainedExecutorBackend}, as their command lines say.
   */
  public Map<String, ProcessHandle> executorProcesses(String appId) {
    Map<String, ProcessHandle> executors = new TreeMap<>();
    workers.stream().flatMap(Process::descendants).filter(ProcessHandle::isAlive).forEach(p -> {
      List<String> args = p.info().arguments().map(List::of).orElse(List.of());
      if (args.contains(EXECUTOR_MAIN) && appId.equals(argumentAfter(args, "--app-id"))) {
        String id = argumentAfter(args, "--executor-id");
        if (id != null) {
          executors.put(id, p);
        }
      }
    });
    return executors;
  }

  private static String argumentAfter(List<String> args, String flag) {
    int at = args.indexOf(flag);
    return at >= 0 && at + 1 < args.size() ? args.get(at + 1) : null;
  }

  /** The ids of every application the master knows, running or completed. */
  public Set<String> appIds() throws IOException, InterruptedException {
    JsonNode state = masterState();
    Set<String> ids = new HashSet<>();
    for (String list : List.of("activeapps", "completedapps")) {
      state.path(list).forEach(app -> ids.add(app.path("id").asText()));
    }
    return ids;
  }

  /**
   * Waits for the master to list an application not in {@code earlierApps} as running, and returns its id. A bounded
   * poll: ends at {@code timeout} or as soon as {@code submitted}, the driver, has ended.
   */
  public String awaitNewActiveApp(SparkProcesses.Submitted submitted, Set<String> earlierApps, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && submitted.isAlive()) {
      for (JsonNode app : masterState().path("activeapps")) {
        if (!earlierApps.contains(app.path("id").asText())) {
          return app.path("id").asText();
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("No new active application on the master\n" + submitted.diagnostics() + diagnostics());
  }

  /**
   * What an executor's log says of its tasks: the stage of each task running now (by task id), and the stages of
   * which it has finished a task.
   */
  public record ExecutorTasks(Map<String, String> runningStageByTask, Set<String> stagesWithFinishedTask) {
    private static final Pattern RUNNING =
        Pattern.compile("Running task \\d+\\.\\d+ in stage (\\d+)\\.\\d+ \\(TID (\\d+)\\)");
    private static final Pattern FINISHED =
        Pattern.compile("Finished task \\d+\\.\\d+ in stage (\\d+)\\.\\d+ \\(TID (\\d+)\\)");

    static ExecutorTasks of(String executorLog) {
      Map<String, String> running = new HashMap<>();
      Matcher started = RUNNING.matcher(executorLog);
      while (started.find()) {
        running.put(started.group(2), started.group(1));
      }
      Set<String> finishedStages = new HashSet<>();
      Matcher done = FINISHED.matcher(executorLog);
      while (done.find()) {
        running.remove(done.group(2));
        finishedStages.add(done.group(1));
      }
      return new ExecutorTasks(running, finishedStages);
    }
  }

  /**
   * Waits until the log of an executor of {@code appId} shows tasks for which {@code condition} holds, and returns
   * that executor's id and live process. A bounded poll of the executors' logs: ends at {@code timeout} or as soon as
   * {@code submitted}, the driver, has ended.
   */
  public Map.Entry<String, ProcessHandle> awaitExecutor(SparkProcesses.Submitted submitted, String appId,
      Duration timeout, String what, Predicate<ExecutorTasks> condition) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && submitted.isAlive()) {
      for (Map.Entry<String, ProcessHandle> executor : executorProcesses(appId).entrySet()) {
        Path stderr = executorDir(appId, executor.getKey()).resolve("stderr");
        if (Files.isRegularFile(stderr) && condition.test(ExecutorTasks.of(Files.readString(stderr)))) {
          return executor;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("No executor of " + appId + " " + what + " in time\n" + submitted.diagnostics()
        + diagnostics());
  }

  /** The master's state, as its web UI serves it at {@code /json/}. */
  public JsonNode masterState() throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://" + SparkProcesses.LOOPBACK + ":" + masterUiPort + "/json/"))
        .timeout(Duration.ofSeconds(5))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("Master UI answered " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body());
  }

  private static long aliveWorkers(JsonNode state) {
    long alive = 0;
    for (JsonNode worker : state.path("workers")) {
      if ("ALIVE".equals(worker.path("state").asText())) {
        alive++;
      }
    }
    return alive;
  }

  /**
   * Polls the master's state until {@code ready} holds. A bounded poll: a short sleep between attempts, ending at
   * {@code deadline} or as soon as the master or a worker has exited.
   */
  private void awaitState(String what, Predicate<JsonNode> ready, long deadline) throws InterruptedException {
    String last = "no answer yet";
    while (System.nanoTime() < deadline) {
      List<Process> processes = new ArrayList<>(workers);
      processes.add(master);
      for (Process p : processes) {
        if (p != null && !p.isAlive()) {
          throw new AssertionError("A cluster process ended with exit code " + p.exitValue() + " while waiting for "
              + what + "\n" + diagnostics());
        }
      }
      try {
        JsonNode state = masterState();
        if (ready.test(state)) {
          return;
        }
        last = state.toString();
      } catch (IOException notUpYet) {
        last = notUpYet.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("Timed out waiting for " + what + "; last master state: " + last + "\n" + diagnostics());
  }

  /** The tails of the master's and the workers' logs and of every executor's stderr, for an assertion message. */
  public String diagnostics() {
    StringBuilder out = new StringBuilder();
    out.append(SparkProcesses.tail(spark.stderrLog("master"), 40));
    workerNames.forEach(name -> out.append(SparkProcesses.tail(spark.stderrLog(name), 40)));
    try {
      for (Path executor : executorDirs()) {
        out.append(SparkProcesses.tail(executor.resolve("stderr"), 40));
      }
    } catch (IOException e) {
      out.append("(cannot list executor logs under ").append(dir).append(": ").append(e.getMessage()).append(")\n");
    }
    return out.toString();
  }

  /** Stops the workers with the executors they started, then the master. Safe to call more than once. */
  @Override
  public void close() {
    workers.forEach(worker -> SparkProcesses.stop(worker, SparkProcesses.STOP_GRACE));
    if (master != null) {
      SparkProcesses.stop(master, SparkProcesses.STOP_GRACE);
    }
  }
}
