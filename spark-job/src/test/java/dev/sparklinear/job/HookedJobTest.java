package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.hooks.NonFiniteValueException;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.hooks.DimensionStats;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.ScaleHook;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs with hooks from the config, run end to end in local mode; expected values are computed here in double. */
class HookedJobTest extends LocalSpark {
  private static final int ROWS = 500;
  private static final float[][] W = {{1f, -2f, 0.5f, 0f}, {-1f, 1f, 1f, 2f}, {0.25f, 0.5f, -3f, 1f}};
  private static final float[] B = {0.5f, -1f, 2f};
  private static final float[] MEAN = {1f, -1f, 0.5f, 2f};
  private static final float[] STD = {2f, 0.5f, 1f, 4f};

  @TempDir static Path dir;
  private static float[][] features;
  private static Path input;

  @BeforeAll
  static void writeInput() {
    SplittableRandom random = new SplittableRandom(21);
    features = new float[ROWS][4];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      for (int c = 0; c < 4; c++) {
        features[i][c] = (float) (random.nextDouble() * 8 - 4);
      }
      Float[] boxed = new Float[4];
      for (int c = 0; c < 4; c++) {
        boxed[c] = features[i][c];
      }
      rows.add(RowFactory.create((long) i, java.util.Arrays.asList(boxed)));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    input = dir.resolve("in.parquet");
    spark.createDataFrame(rows, schema).repartition(3).write().parquet(input.toString());
  }

  private static String config(String output, String hooks) {
    return """
        module:
          in-features: 4
          out-features: 3
          weights:
            weight: [[1, -2, 0.5, 0], [-1, 1, 1, 2], [0.25, 0.5, -3, 1]]
            bias: [0.5, -1, 2]
        input: {path: "%s", column: features}
        output: {path: "%s", keep: [id]}
        block: {max-rows: 64}
        """.formatted(input, dir.resolve(output)) + hooks;
  }

  private static RunSummary run(String output, String hooks) {
    return new LinearJob(JobConfig.parse(config(output, hooks), "conf/" + output + ".yaml", List.of()), spark).run();
  }

  /** The layer on standardized features, in double. */
  private static double[] standardizedAffine(float[] x) {
    double[] y = new double[3];
    for (int o = 0; o < 3; o++) {
      double sum = B[o];
      for (int k = 0; k < 4; k++) {
        sum += ((double) x[k] - MEAN[k]) / STD[k] * W[o][k];
      }
      y[o] = sum;
    }
    return y;
  }

  /** The output rows by id. */
  private static float[][] outputById(String output) {
    List<Row> rows = spark.read().parquet(dir.resolve(output).toString()).collectAsList();
    float[][] out = new float[ROWS][];
    for (Row row : rows) {
      List<Float> y = row.getList(row.fieldIndex("output"));
      float[] values = new float[y.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = y.get(i);
      }
      out[(int) row.getLong(row.fieldIndex("id"))] = values;
    }
    return out;
  }

  @Test
  void standardizeThenLayerThenReluEqualsTheReference() {
    RunSummary summary = run("std-relu", """
        hooks:
          pre: [{type: standardize, mean: [1, -1, 0.5, 2], std: [2, 0.5, 1, 4]}]
          forward: [relu]
        """);
    assertThat(summary.rowsOut()).isEqualTo(ROWS);
    float[][] out = outputById("std-relu");
    for (int i = 0; i < ROWS; i++) {
      double[] expected = standardizedAffine(features[i]);
      for (int o = 0; o < 3; o++) {
        assertThat((double) out[i][o]).as("row %d, output %d", i, o)
            .isCloseTo(Math.max(0, expected[o]), within(1e-5 * (1 + Math.abs(expected[o]))));
      }
    }
  }

  @Test
  void statsTotalsEqualRowsWrittenAndMatchTheOutput() throws IOException {
    RunSummary summary = run("stats", """
        hooks:
          forward:
            - {type: clamp, min: -6}
            - {type: stats, bins: 8, min: -8, max: 8}
        """);
    float[][] out = outputById("stats");
    assertThat(summary.hookStatistics()).containsOnlyKeys("hooks.forward[1]");
    List<DimensionStats> stats = summary.hookStatistics().get("hooks.forward[1]");
    assertThat(stats).hasSize(3);
    for (int d = 0; d < 3; d++) {
      // Independently: mean, min, max and bins (edges -8, -6, ..., 8; the last bin closed) from the written rows.
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      long[] bins = new long[8];
      long over = 0;
      for (float[] row : out) {
        double v = row[d];
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
        if (v > 8) {
          over++;
        } else {
          int bin = 0;
          while (bin < 7 && v >= -8 + 2 * (bin + 1)) {
            bin++;
          }
          bins[bin]++;
        }
      }
      DimensionStats s = stats.get(d);
      assertThat(s.count()).as("count of dimension %d", d).isEqualTo(summary.rowsOut()).isEqualTo(ROWS);
      assertThat(s.nanCount()).isZero();
      assertThat(s.mean()).isCloseTo(sum / ROWS, within(1e-9));
      assertThat(s.min()).isEqualTo(min).isGreaterThanOrEqualTo(-6);
      assertThat(s.max()).isEqualTo(max);
      assertThat(s.bins()).containsExactly(bins);
      assertThat(s.underflow()).isZero();
      assertThat(s.overflow()).isEqualTo(over);
      assertThat(java.util.Arrays.stream(s.bins()).sum() + s.overflow()).isEqualTo(ROWS);
    }
    JsonNode json = new ObjectMapper().readTree(dir.resolve("stats").resolve(RunSummary.FILE_NAME).toFile());
    JsonNode first = json.path("hooks").path("hooks.forward[1]").path("dimensions").path(0);
    assertThat(first.path("count").asLong()).isEqualTo(ROWS);
    assertThat(first.path("histogram").path("bins")).hasSize(8);
    assertThat(json.path("config").path("hooks.forward").get(1).asText()).isEqualTo("stats {bins: 8, min: -8.0, max: 8.0}");
  }

  @Test
  void userHookClassIsInstantiatedInTheTasksNotOnTheDriver() {
    int before = ScaleHook.INSTANCES.get();
    int beforeInTasks = ScaleHook.INSTANCES_IN_TASKS.get();
    run("user", """
        hooks:
          forward: [relu, {class: dev.sparklinear.testing.ScaleHook, factor: 3}]
        """);
    float[][] out = outputById("user");
    for (int i = 0; i < ROWS; i++) {
      double[] y = standardizedAffineWithoutStandardize(features[i]);
      for (int o = 0; o < 3; o++) {
        assertThat((double) out[i][o]).isCloseTo(3 * Math.max(0, y[o]), within(1e-4 * (1 + Math.abs(y[o]))));
      }
    }
    // One executor JVM here (local mode): one instance, made inside a task.
    assertThat(ScaleHook.INSTANCES.get() - before).isEqualTo(1);
    assertThat(ScaleHook.INSTANCES_IN_TASKS.get() - beforeInTasks).isEqualTo(1);
  }

  private static double[] standardizedAffineWithoutStandardize(float[] x) {
    double[] y = new double[3];
    for (int o = 0; o < 3; o++) {
      double sum = B[o];
      for (int k = 0; k < 4; k++) {
        sum += (double) x[k] * W[o][k];
      }
      y[o] = sum;
    }
    return y;
  }

  @Test
  void nonHookClassIsRefusedBeforeAnyTask() {
    int instances = dev.sparklinear.testing.NotAHook.INSTANCES.get();
    assertThatThrownBy(() -> run("not-a-hook", "hooks: {forward: [{class: dev.sparklinear.testing.NotAHook}]}\n"))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run conf/not-a-hook.yaml: Hook class dev.sparklinear.testing.NotAHook (hooks.forward[0])"
            + " does not implement dev.sparklinear.core.nn.ForwardHook");
    assertThat(Files.exists(dir.resolve("not-a-hook"))).isFalse();
    assertThat(dev.sparklinear.testing.NotAHook.INSTANCES.get()).as("never instantiated").isEqualTo(instances);
  }

  @Test
  void standardizeVectorsFromNpyFilesAndBadFilesAreReported() throws IOException {
    Path mean = writeNpy(dir.resolve("mean.npy"), MEAN);
    Path std = writeNpy(dir.resolve("std.npy"), STD);
    Path shortStd = writeNpy(dir.resolve("std3.npy"), new float[] {1f, 1f, 1f});
    run("npy", "hooks: {pre: [{type: standardize, mean-path: \"" + mean + "\", std-path: \"" + std + "\"}]}\n");
    float[][] out = outputById("npy");
    for (int i = 0; i < ROWS; i += 7) {
      double[] expected = standardizedAffine(features[i]);
      for (int o = 0; o < 3; o++) {
        assertThat((double) out[i][o]).isCloseTo(expected[o], within(1e-5 * (1 + Math.abs(expected[o]))));
      }
    }
    assertThatThrownBy(() -> run("npy-bad", "hooks: {pre: [{type: standardize, mean-path: \"" + mean
        + "\", std-path: \"" + shortStd + "\"}]}\n"))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run conf/npy-bad.yaml: Cannot build hook hooks.pre[0] (standardize): std-path " + shortStd
            + " holds an array of shape [3], expected [4] (in_features = 4)");
  }

  /** A little-endian float32 .npy file of one dimension, written by hand from the format's specification. */
  private static Path writeNpy(Path path, float[] values) throws IOException {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + values.length + ",), }";
    int padded = ((10 + header.length() + 1 + 63) / 64) * 64;
    header = header + " ".repeat(padded - 10 - header.length() - 1) + "\n";
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(padded + 4 * values.length)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buffer.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1)
        .put((byte) 0).putShort((short) header.length())
        .put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (float v : values) {
      buffer.putFloat(v);
    }
    return Files.write(path, buffer.array());
  }

  @Test
  void nanGuardFailureNamesPartitionRowAndKey() {
    // A layer with a huge weight: row id 123 overflows to infinity on output 0.
    String yaml = config("nan", "hooks: {forward: [nan-guard]}\n")
        .replace("weight: [[1, -2, 0.5, 0]", "weight: [[1e38, -2, 0.5, 0]");
    JobConfig config = JobConfig.parse(yaml, "conf/nan.yaml", List.of());
    assertThatThrownBy(() -> new LinearJob(config, spark).run())
        .rootCause()
        .isInstanceOf(NonFiniteValueException.class)
        .hasMessageContaining("Non-finite value ")
        .hasMessageContaining(" in the module's outputs at row ")
        .hasMessageMatching("(?s).* at row \\d+ of partition \\d \\(id=\\d+\\), column 0 \\(row \\d+ of block \\d+\\)\\."
            + " The nan-guard hook fails on NaN and infinities.*");
    deleteQuietly(dir.resolve("nan"));
  }

  private static void deleteQuietly(Path path) {
    try (var files = Files.walk(path)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // nothing was written
    }
  }
}
