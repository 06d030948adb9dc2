package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.testing.ClassesJar;
import dev.sparklinear.testing.SparkProcesses;
import dev.sparklinear.testing.StandaloneCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real executor JVM, Spark deserializes the broadcast module once and every task of that JVM, two at a time,
 * runs that one instance: so a layer's kernel is packed once per executor, with no cache of our own. The driver is
 * this JVM; one two-core executor runs on a standalone cluster on 127.0.0.1.
 */
class BroadcastModuleIT {
  private static final int TASKS = 40;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void anExecutorDeserializesTheModuleOnceForAllItsTasks() throws Exception {
    Path reports = Files.createDirectories(dir.resolve("reports"));
    Path probeJar = ClassesJar.write(dir.resolve("probe.jar"), BroadcastProbe.class);
    SparkProcesses processes = SparkProcesses.create(dir);
    long rows;
    try (StandaloneCluster cluster = StandaloneCluster.start(processes, dir.resolve("cluster"), 2, "2g",
        Duration.ofSeconds(90))) {
      SparkSession spark = SparkSession.builder()
          .master(cluster.masterUrl())
          .appName("broadcast-module-it")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", SparkProcesses.LOOPBACK)
          .config("spark.driver.bindAddress", SparkProcesses.LOOPBACK)
          .config("spark.executor.cores", "2")
          .config("spark.cores.max", "2")
          .config("spark.executor.memory", "512m")
          .config("spark.executor.extraJavaOptions", String.join(" ", SparkProcesses.SHORT_LIVED_JVM))
          .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
          .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
          .config("spark.jars", processes.submitJar() + "," + probeJar)
          .getOrCreate();
      try {
        rows = new ModuleTransformer(new BroadcastProbe(reports)).setInputCol("features").setBlockMaxRows(16)
            .transform(spark.range(0, 4000, 1, TASKS).selectExpr("id", "array(cast(id AS float), 1f) AS features"))
            .count();
      } finally {
        spark.stop();
      }
    }

    List<BroadcastProbe.Report> seen = BroadcastProbe.Report.readAll(reports);
    Map<Long, Set<Integer>> instancesByJvm = seen.stream().collect(Collectors.groupingBy(
        BroadcastProbe.Report::pid, Collectors.mapping(BroadcastProbe.Report::instance, Collectors.toSet())));
    Map<Long, Integer> deserializationsByJvm = seen.stream().collect(Collectors.toMap(
        BroadcastProbe.Report::pid, BroadcastProbe.Report::deserializations, Math::max));
    System.out.println("BroadcastModuleIT: " + TASKS + " tasks on one two-core executor: instances by JVM "
        + instancesByJvm + ", deserializations by JVM " + deserializationsByJvm);
    assertThat(rows).isEqualTo(4000);
    assertThat(instancesByJvm).as("executor JVMs that ran blocks").hasSize(1)
        .doesNotContainKey(ProcessHandle.current().pid());
    assertThat(instancesByJvm.values()).allSatisfy(instances -> assertThat(instances).hasSize(1));
    assertThat(deserializationsByJvm.values()).containsOnly(1);
  }
}
