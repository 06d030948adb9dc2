package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.hooks.DimensionStats;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conf/pytorch-head.yaml} run end to end in local mode on the rows of {@code data/heads/head.json}, against
 * torch's float64 outputs of the same head: as it is, and with hooks on two of its children.
 */
class LayersJobTest extends LocalSpark {
  @TempDir static Path dir;
  private static JsonNode head;
  private static List<JsonNode> rows;
  private static Path input;
  /**
   * How far an output may be from torch's float64 one: a few times the furthest torch's own float32 run of the head
   * is from it. Both compute in float32, with sums in another order.
   */
  private static double tolerance;

  @BeforeAll
  static void writeTheRowsOfTheFixture() throws IOException {
    head = new ObjectMapper().readTree(RepositoryRoot.resolve("data/heads/head.json").toFile());
    rows = new ArrayList<>();
    head.get("rows").forEach(rows::add);
    double torchError = 0;
    List<Row> data = new ArrayList<>();
    for (JsonNode row : rows) {
      List<Float> features = new ArrayList<>();
      row.get("features").forEach(value -> features.add(value.floatValue()));
      data.add(RowFactory.create(row.get("id").longValue(), features));
      for (int o = 0; o < 3; o++) {
        torchError = Math.max(torchError, Math.abs(row.get("out32").get(o).doubleValue()
            - row.get("out64").get(o).doubleValue()));
      }
    }
    tolerance = 4 * torchError;
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    input = dir.resolve("rows.parquet");
    spark.createDataFrame(data, schema).repartition(2).write().parquet(input.toString());
  }

  private static RunSummary run(String output, String... overrides) {
    List<String> all = Stream.concat(Stream.of("input.path=" + input, "output.path=" + dir.resolve(output),
        "module.weights.path=" + RepositoryRoot.resolve("data/heads/head.safetensors")), Stream.of(overrides)).toList();
    return new LinearJob(JobConfig.load(RepositoryRoot.resolve("conf/pytorch-head.yaml"), all), spark).run();
  }

  /** Each written row's output against {@code field} of the fixture's row of the same id. */
  private static void assertOutputsMatch(String output, String field) {
    List<Row> written = spark.read().parquet(dir.resolve(output).toString()).collectAsList();
    assertThat(written).hasSize(rows.size());
    for (Row row : written) {
      JsonNode expected = rows.get((int) row.getLong(row.fieldIndex("id")) - 1).get(field);
      List<Float> actual = row.getList(row.fieldIndex("output"));
      assertThat(actual).hasSize(3);
      for (int o = 0; o < 3; o++) {
        assertThat(Math.abs(actual.get(o) - expected.get(o).doubleValue()))
            .as("id %d, output %d", row.getLong(row.fieldIndex("id")), o).isLessThanOrEqualTo(tolerance);
      }
    }
  }

  @Test
  void runsTheHeadAsTorchDoes() {
    RunSummary summary = run("head");

    assertThat(tolerance).as("torch's own float32 error").isPositive().isLessThan(1e-6);
    assertThat(summary.rowsOut()).isEqualTo(rows.size());
    assertThat(summary.module()).isEqualTo(head.get("repr").textValue());
    assertOutputsMatch("head", "out64");
  }

  @Test
  void hooksOfOneLayerRunOnThatChild() {
    RunSummary summary = run("hooked",
        "hooks.layers.2.forward=[{type: clamp, max: 0.25}, {type: stats, bins: 5, min: -0.5, max: 0.5}]",
        "hooks.layers.7.pre=[{type: clamp, max: 0.2}]");

    double change = rows.stream().mapToDouble(row -> {
      double most = 0;
      for (int o = 0; o < 3; o++) {
        most = Math.max(most, Math.abs(row.get("hooked64").get(o).doubleValue() - row.get("out64").get(o).doubleValue()));
      }
      return most;
    }).max().orElseThrow();
    assertThat(change).as("the hooks change torch's outputs far beyond the tolerance").isGreaterThan(1e5 * tolerance);
    assertOutputsMatch("hooked", "hooked64");
    // The stats hook sees child 2's 8 outputs of every row, after the clamp before it.
    assertThat(summary.hookStatistics()).containsOnlyKeys("hooks.layers.2.forward[1]");
    List<DimensionStats> stats = summary.hookStatistics().get("hooks.layers.2.forward[1]");
    assertThat(stats).hasSize(8).allSatisfy(dimension -> {
      assertThat(dimension.count()).isEqualTo(rows.size());
      assertThat(dimension.max()).isLessThanOrEqualTo(0.25);
    });
    assertThat(stats).anySatisfy(dimension -> assertThat(dimension.max()).isEqualTo(0.25));
  }
}
