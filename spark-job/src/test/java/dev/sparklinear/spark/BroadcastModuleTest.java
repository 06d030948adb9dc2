package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module reaches tasks as a Spark broadcast, and Spark decides how often it is deserialized: here in local mode
 * (on a standalone cluster's executor JVMs: {@code BroadcastModuleIT}). Each test runs a context of its own, as a JVM
 * that runs one job after another does (the command line run in-process, a notebook, a service).
 */
class BroadcastModuleTest {
  @TempDir
  Path reports;

  private static SparkSession start(String master) {
    return SparkSession.builder()
        .master(master)
        .appName("broadcast-module")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
  }

  /** Broadcast ids start again at 0 in every SparkContext: a later job must still get its own module. */
  @Test
  void aLaterSparkContextGetsItsOwnModuleForTheSameBroadcastId() {
    assertThat(firstOutputWithWeight(2f)).containsExactly(2f);
    assertThat(firstOutputWithWeight(3f)).as("the second context's layer, not the first one's").containsExactly(3f);
  }

  /** Runs a 1 -> 1 layer of weight {@code w} over the row {@code [1]} in a fresh local context. */
  private static List<Float> firstOutputWithWeight(float w) {
    SparkSession spark = start("local[1]");
    try {
      Linear linear = new Linear(1, 1, false);
      linear.setWeight(new Parameter(Tensor.of(new float[][] {{w}})));
      StructType schema = new StructType()
          .add("features", DataTypes.createArrayType(DataTypes.FloatType));
      Row row = RowFactory.create((Object) new float[] {1f});
      Row out = new ModuleTransformer(linear).setInputCol("features").setOutputCol("y")
          .transform(spark.createDataFrame(List.of(row), schema))
          .select("y").first();
      return out.getList(0);
    } finally {
      spark.stop();
    }
  }

  /**
   * Measured: 40 tasks on two threads, 7 blocks each, 0 deserializations and 1 instance, the driver's own: in local
   * mode the driver's block manager holds the broadcast value itself, and every task reads it from there.
   */
  @Test
  void tasksOfOneJvmShareOneModule() throws IOException {
    BroadcastProbe probe = new BroadcastProbe(reports);
    SparkSession spark = start("local[2]");
    long rows;
    try {
      rows = new ModuleTransformer(probe).setInputCol("features").setBlockMaxRows(16)
          .transform(spark.range(0, 4000, 1, 40).selectExpr("id", "array(cast(id AS float), 1f) AS features"))
          .count();
    } finally {
      spark.stop();
    }

    List<BroadcastProbe.Report> seen = BroadcastProbe.Report.readAll(reports);
    Set<Integer> instances = seen.stream().map(BroadcastProbe.Report::instance).collect(Collectors.toSet());
    System.out.println("BroadcastModuleTest: local[2], 40 tasks: instances " + instances + ", deserializations "
        + seen.stream().mapToInt(BroadcastProbe.Report::deserializations).max().orElse(-1));
    assertThat(rows).isEqualTo(4000);
    assertThat(instances).containsExactly(System.identityHashCode(probe));
    assertThat(seen).extracting(BroadcastProbe.Report::deserializations).containsOnly(0);
  }
}
