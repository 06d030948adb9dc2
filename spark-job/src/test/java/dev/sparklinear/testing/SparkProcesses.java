package dev.sparklinear.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * Spark as separate JVMs, made from the jars Maven resolved instead of a Spark distribution: a {@code SPARK_HOME}
 * whose {@code jars/} folder links to every Spark jar, child JVMs started with Spark's own module flags and a
 * loopback-only environment, spark-submit ({@code org.apache.spark.deploy.SparkSubmit}) run to its end with a time
 * limit, and process trees stopped for sure.
 *
 * <pre>{@code
 * SparkProcesses spark = SparkProcesses.create(tempDir);
 * SparkProcesses.Finished run = spark.submit("seed", repositoryRoot, Duration.ofSeconds(90),
 *     List.of("--master", "local[2]", "--class", MAIN, spark.submitJar().toString(), "run", "conf/x.yaml"));
 * assertThat(run.exitCode()).as(run.diagnostics()).isZero();
 * }</pre>
 *
 * <p>The jars come from {@code spark-job/target/lib/}, which {@code mvn package} fills with every runtime dependency;
 * the spark-submit jar is the one {@code mvn package} builds. Failsafe passes both paths as the system properties
 * {@value #LIB_DIR_PROPERTY} and {@value #SUBMIT_JAR_PROPERTY}.
 */
public final class SparkProcesses {
  public static final String LIB_DIR_PROPERTY = "spark-linear.lib-dir";
  public static final String SUBMIT_JAR_PROPERTY = "spark-linear.submit-jar";
  public static final String SPARK_SUBMIT = "org.apache.spark.deploy.SparkSubmit";
  public static final String LOOPBACK = "127.0.0.1";

  /**
   * JVM flags for the short-lived JVMs of a test: the quick compiler only and a single-threaded collector, which save
   * most of the CPU time a JVM spends starting up (these tests run where cores are few).
   */
  public static final List<String> SHORT_LIVED_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /** How long a process may take to stop after being asked before it is killed. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  /** Every process started here and not yet stopped; the shutdown hook stops what a failed test left behind. */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(
        () -> List.copyOf(LIVE).forEach(p -> stop(p, Duration.ofSeconds(3))), "spark-processes-stop"));
  }

  private final Path dir;
  private final Path sparkHome;
  private final Path submitJar;

  private SparkProcesses(Path dir, Path sparkHome, Path submitJar) {
    this.dir = dir;
    this.sparkHome = sparkHome;
    this.submitJar = submitJar;
  }

  /** Makes a {@code SPARK_HOME} under {@code dir}, whose {@code jars/} links to the Spark jars, and a log folder. */
  public static SparkProcesses create(Path dir) throws IOException {
    Path libDir = existing(LIB_DIR_PROPERTY, "folder of runtime dependencies");
    Path submitJar = existing(SUBMIT_JAR_PROPERTY, "spark-submit jar");
    Path sparkHome = Files.createDirectories(dir.resolve("spark-home"));
    Path jars = Files.createDirectories(sparkHome.resolve("jars"));
    List<Path> sparkJars = sparkJars(libDir);
    if (sparkJars.stream().noneMatch(p -> p.getFileName().toString().startsWith("spark-core_"))) {
      throw new IllegalStateException("No spark-core jar in " + libDir + "; run 'mvn package' first");
    }
    for (Path jar : sparkJars) {
      Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
    }
    return new SparkProcesses(dir, sparkHome, submitJar.toAbsolutePath());
  }

  /**
   * The jars of a Spark distribution: every runtime dependency except what the spark-submit jar carries itself (our
   * modules and picocli). jackson-dataformat-yaml stays: Spark's own distribution ships it in {@code jars/}, though the
   * Maven artifacts used here do not bring it.
   */
  private static List<Path> sparkJars(Path libDir) throws IOException {
    try (Stream<Path> files = Files.list(libDir)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".jar"))
          .filter(p -> !p.getFileName().toString().startsWith("spark-linear-"))
          .filter(p -> !p.getFileName().toString().startsWith("picocli-"))
          .sorted()
          .toList();
    }
  }

  private static Path existing(String property, String what) {
    String value = System.getProperty(property);
    if (value == null) {
      throw new IllegalStateException("System property " + property + " (the " + what + ") is not set; run the"
          + " integration tests with 'mvn verify', which sets it");
    }
    Path path = Path.of(value);
    if (!Files.exists(path)) {
      throw new IllegalStateException("The " + what + " " + path + " does not exist; run 'mvn package' first");
    }
    return path;
  }

  public Path sparkHome() {
    return sparkHome;
  }

  public Path submitJar() {
    return submitJar;
  }

  /** A free TCP port on the loopback address (free now; a race with another process remains possible). */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot find a free port on " + LOOPBACK, e);
    }
  }

  /**
   * Starts {@code mainClass} in a JVM of its own with the Spark jars as its class path, Spark's module flags,
   * {@code jvmOptions}, and stdout and stderr going to {@code <name>.out} and {@code <name>.err} in the log folder.
   */
  public Process start(String name, String mainClass, List<String> jvmOptions, List<String> args, Path workingDir)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(moduleFlags());
    command.addAll(SHORT_LIVED_JVM);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(sparkHome.resolve("jars") + "/*");
    command.add(mainClass);
    command.addAll(args);

    ProcessBuilder builder = new ProcessBuilder(command).directory(workingDir.toFile());
    environment(builder.environment());
    Files.createDirectories(dir.resolve("logs"));
    builder.redirectOutput(stdoutLog(name).toFile());
    builder.redirectError(stderrLog(name).toFile());
    Process process = builder.start();
    LIVE.add(process);
    return process;
  }

  /** Where the stdout of the process started as {@code name} goes. */
  public Path stdoutLog(String name) {
    return dir.resolve("logs").resolve(name + ".out");
  }

  /** Where the stderr of the process started as {@code name} goes (Spark logs there). */
  public Path stderrLog(String name) {
    return dir.resolve("logs").resolve(name + ".err");
  }

  /** Spark's own list of JVM flags for Java 17 and later. */
  public static List<String> moduleFlags() {
    return Arrays.stream(JavaModuleOptions.defaultModuleOptions().trim().split("\\s+")).toList();
  }

  /** Only our settings: Spark variables of the calling shell must not leak into the test. */
  private void environment(Map<String, String> env) {
    env.keySet().removeIf(k -> k.startsWith("SPARK_") || k.startsWith("PYSPARK_") || k.equals("HADOOP_CONF_DIR")
        || k.equals("YARN_CONF_DIR"));
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_LOCAL_IP", LOOPBACK);
    env.put("SPARK_LOCAL_DIRS", dir.resolve("local-dirs").toString());
    // The worker starts executors with $JAVA_HOME/bin/java: the same JDK as this test.
    env.put("JAVA_HOME", System.getProperty("java.home"));
  }

  /**
   * Runs spark-submit with {@code submitArgs} in {@code workingDir} and waits for it to end. A run that takes longer
   * than {@code timeout} is stopped (with everything it started) and fails the test with the tail of its logs.
   */
  public Finished submit(String name, Path workingDir, Duration timeout, List<String> submitArgs)
      throws IOException, InterruptedException {
    return startSubmit(name, workingDir, submitArgs).await(timeout);
  }

  /**
   * Starts spark-submit with {@code submitArgs} in {@code workingDir} and returns at once, for a test that acts while
   * the job runs; {@link Submitted#await} then waits for its end.
   */
  public Submitted startSubmit(String name, Path workingDir, List<String> submitArgs) throws IOException {
    long start = System.nanoTime();
    Process process = start(name, SPARK_SUBMIT, List.of("-Xmx1g"), submitArgs, workingDir);
    return new Submitted(name, process, start);
  }

  /** A spark-submit run that was started and may still be running. */
  public final class Submitted {
    private final String name;
    private final Process process;
    private final long startNanos;

    private Submitted(String name, Process process, long startNanos) {
      this.name = name;
      this.process = process;
      this.startNanos = startNanos;
    }

    public boolean isAlive() {
      return process.isAlive();
    }

    /** The tails of its logs so far, for an assertion message. */
    public String diagnostics() {
      return "spark-submit '" + name + "'" + (process.isAlive() ? " (running)" : " (exit code " + process.exitValue()
          + ")") + "\n" + tail(stdoutLog(name), 40) + tail(stderrLog(name), 80);
    }

    /**
     * Waits for the run to end. A run still going after {@code timeout} is stopped (with everything it started) and
     * fails the test with the tail of its logs.
     */
    public Finished await(Duration timeout) throws InterruptedException {
      boolean ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!ended) {
        SparkProcesses.stop(process, STOP_GRACE);
      }
      LIVE.remove(process);
      Finished finished = new Finished(ended ? process.exitValue() : -1, stdoutLog(name), stderrLog(name),
          Duration.ofNanos(System.nanoTime() - startNanos));
      if (!ended) {
        throw new AssertionError("spark-submit '" + name + "' did not end within " + timeout.toSeconds() + " s and"
            + " was stopped\n" + finished.diagnostics());
      }
      return finished;
    }

    /** Stops the run if it is still going; for cleaning up after a failed test. */
    public void stop() {
      SparkProcesses.stop(process, STOP_GRACE);
    }
  }

  /**
   * Stops a process and every process it started (executors of a worker): asks them to end, waits up to {@code
   * grace}, then kills what is left. The tree is read before anything is stopped, as orphans leave it.
   */
  public static void stop(Process process, Duration grace) {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.add(0, process.toHandle());
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle handle : tree) {
      long left = deadline - System.nanoTime();
      try {
        handle.onExit().get(Math.max(left, 0), TimeUnit.NANOSECONDS);
      } catch (Exception stillRunning) {
        handle.destroyForcibly();
      }
    }
    for (ProcessHandle handle : tree) {
      try {
        handle.onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // Killed with SIGKILL; nothing more can be done from here.
      }
    }
    LIVE.remove(process);
  }

  /** The last {@code lines} lines of a log file, under a header naming it; a missing file says so. */
  public static String tail(Path file, int lines) {
    if (!Files.isRegularFile(file)) {
      return "==> " + file + " (missing) <==\n";
    }
    try {
      List<String> all = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
      List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
      return "==> " + file + " (last " + last.size() + " of " + all.size() + " lines) <==\n"
          + last.stream().collect(Collectors.joining("\n", "", "\n"));
    } catch (IOException e) {
      return "==> " + file + " (unreadable: " + e.getMessage() + ") <==\n";
    }
  }

  /** One ended spark-submit run: its exit code, its logs and how long it took. */
  public record Finished(int exitCode, Path stdout, Path stderr, Duration took) {
    public String stdoutText() {
      return read(stdout);
    }

    public String stderrText() {
      return read(stderr);
    }

    /** The tails of both logs, for an assertion message. */
    public String diagnostics() {
      return "exit code " + exitCode + " after " + took.toMillis() + " ms\n" + tail(stdout, 40) + tail(stderr, 80);
    }

    private static String read(Path file) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
