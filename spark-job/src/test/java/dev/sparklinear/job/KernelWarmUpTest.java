package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.nn.Init;
import dev.sparklinear.job.config.JobConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.util.ArrowUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel warm-up runs in local mode only, calls a module of the job's shapes, frees its memory however it ends,
 * swallows its failures, and leaves the job's output as it is. Like {@code SparkLinearTest}, the runs of the command
 * line here make and stop sessions of their own, so this class shares none.
 */
class KernelWarmUpTest {
  private static final String LINEAR = """
      module:
        in-features: 64
        out-features: 16
        init-seed: 7
      input:
        path: in/
        column: features
      output:
        path: out/
      """;
  private static final String HEAD = """
      module:
        layers:
          - {type: linear, in-features: 32, out-features: 48}
          - relu
          - {type: layer-norm, normalized-shape: 48}
          - {type: linear, in-features: 48, out-features: 8}
      input:
        path: in/
        column: features
      output:
        path: out/
      """;

  @TempDir
  Path tmp;

  private static JobConfig config(String yaml, String... overrides) {
    return JobConfig.parse(yaml, "test.yaml", List.of(overrides));
  }

  private static boolean warmUpAllocatorOpen() {
    return ArrowUtils.rootAllocator().getChildAllocators().stream().map(BufferAllocator::getName)
        .anyMatch(name -> name.contains("warm-up"));
  }

  @Test
  void runsOnlyWhereTheTasksRunInThisJvm() {
    assertThat(List.of("local", "local[1]", "local[2]", "local[*]", "local[4,2]", "local[*,3]"))
        .allMatch(KernelWarmUp::isLocal);
    List<String> elsewhere = new ArrayList<>(List.of("local-cluster[2,1,1024]", "spark://127.0.0.1:7077", "yarn",
        "k8s://https://127.0.0.1:6443", "mesos://127.0.0.1:5050", "locally", ""));
    assertThat(elsewhere).noneMatch(KernelWarmUp::isLocal);
    assertThat(KernelWarmUp.isLocal(null)).isFalse();

    int before = KernelWarmUp.threadsStarted();
    for (String master : elsewhere) {
      KernelWarmUp warmUp = KernelWarmUp.start(config(LINEAR), master);
      assertThat(warmUp.started()).as(master).isFalse();
      assertThat(warmUp.calls()).isZero();
    }
    assertThat(KernelWarmUp.threadsStarted()).isEqualTo(before);
  }

  @Test
  void callsAModuleOfTheJobsShapesUntilItsBoundAndFreesItsMemory() throws InterruptedException {
    for (String yaml : List.of(LINEAR, HEAD)) {
      int before = KernelWarmUp.threadsStarted();
      KernelWarmUp warmUp = KernelWarmUp.start(config(yaml, "block.max-rows=300"), "local[2]");

      assertThat(warmUp.started()).isTrue();
      assertThat(KernelWarmUp.threadsStarted()).isEqualTo(before + 1);
      assertThat(warmUp.awaitEnd(60_000)).isTrue();
      assertThat(warmUp.calls()).isBetween(1, KernelWarmUp.MAX_CALLS);
      assertThat(warmUpAllocatorOpen()).isFalse();
    }
  }

  @Test
  void endsAfterTheCallItIsInWhenStopped() throws InterruptedException {
    KernelWarmUp warmUp = KernelWarmUp.start(config(LINEAR), "local");
    warmUp.stop();

    assertThat(warmUp.awaitEnd(30_000)).isTrue();
    assertThat(warmUp.calls()).isLessThanOrEqualTo(1);
    assertThat(warmUpAllocatorOpen()).isFalse();
  }

  @Test
  void leavesModulesTooLargeToCopyAlone() {
    KernelWarmUp warmUp = KernelWarmUp.start(config(LINEAR, "module.in-features=4096", "module.out-features=2048"),
        "local[2]");

    assertThat(warmUp.started()).isFalse();
    assertThat(KernelWarmUp.linearWeights(config(HEAD).module())).isEqualTo(32 * 48 + 48 * 8);
  }

  @Test
  void aFailureEndsTheThreadQuietly() throws InterruptedException {
    List<Throwable> uncaught = new ArrayList<>();
    CountDownLatch ran = new CountDownLatch(1);
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
    try {
      KernelWarmUp failing = KernelWarmUp.startThread(warmUp -> {
        ran.countDown();
        throw new OutOfMemoryError("Direct buffer memory");
      });
      assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(failing.awaitEnd(10_000)).isTrue();
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(previous);
    }
    assertThat(uncaught).isEmpty();
  }

  /** Runs the command line in-process, its output kept out of the test's. */
  private static int execute(String... args) {
    PrintStream stdout = System.out;
    try {
      System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      return SparkLinear.execute(args);
    } finally {
      System.setOut(stdout);
    }
  }

  /** The output rows by id, each output value by its bits. */
  private static List<String> outputBits(SparkSession spark, Path output) {
    List<String> rows = new ArrayList<>();
    for (Row row : spark.read().parquet(output.toString()).orderBy("id").collectAsList()) {
      StringBuilder bits = new StringBuilder(row.getAs("id").toString());
      List<Float> values = row.getList(row.fieldIndex("output"));
      values.forEach(v -> bits.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v))));
      rows.add(bits.toString());
    }
    return rows;
  }

  /**
   * The job run from the command line in local mode, with the warm-up, writes what the same job writes without it,
   * value for value. The layer is initialised from the JVM-wide seed sequence, reset before each run: were the warm-up
   * to draw a seed from it, the job's weights would differ.
   */
  @Test
  void theCommandLineWarmsUpInLocalModeAndTheOutputStaysTheSame() throws Exception {
    Path input = tmp.resolve("input");
    assertThat(execute("generate", "--rows", "20000", "--dim", "64", "--out", input.toString(), "--partitions",
        "3")).isZero();
    // No init-seed: the layer takes the next seed of the JVM-wide sequence.
    String config = Files.writeString(tmp.resolve("job.yaml"), """
        module:
          in-features: 64
          out-features: 16
        input:
          column: features
        block:
          max-rows: 1000
        """).toString();
    List<String> settings = List.of("input.path=" + input);
    Path warm = tmp.resolve("warm");
    Path cold = tmp.resolve("cold");

    int before = KernelWarmUp.threadsStarted();
    Init.manualSeed(99);
    List<String> args = new ArrayList<>(List.of("run", config, "--show", "0", "--set", "output.path=" + warm));
    settings.forEach(setting -> args.addAll(List.of("--set", setting)));
    assertThat(execute(args.toArray(new String[0]))).isZero();
    assertThat(KernelWarmUp.threadsStarted()).isEqualTo(before + 1);

    JobOptions options = new JobOptions();
    options.config = Path.of(config);
    options.overrides = new ArrayList<>(settings);
    options.overrides.add("output.path=" + cold);
    options.logLevel = "WARN";
    Init.manualSeed(99);
    options.inSession((jobConfig, spark) -> new LinearJob(jobConfig, spark).run(), false);
    assertThat(KernelWarmUp.threadsStarted()).isEqualTo(before + 1);

    SparkSession spark = SparkSession.builder().master("local[1]").appName("warm-up-test")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    try {
      List<String> withWarmUp = outputBits(spark, warm);
      assertThat(withWarmUp).hasSize(20000);
      assertThat(withWarmUp).isEqualTo(outputBits(spark, cold));
    } finally {
      spark.stop();
    }
    assertThat(warmUpAllocatorClosesWithin(10_000)).isTrue();
  }

  private static boolean warmUpAllocatorClosesWithin(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (warmUpAllocatorOpen() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return !warmUpAllocatorOpen();
  }
}
