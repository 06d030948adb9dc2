package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.InvalidRowException;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The invalid-rows policies end to end, on Parquet read as column batches and (with Spark's vectorized reader off)
 * as rows: which rows reach the output, what the quarantine holds, and that the counts reconcile: rows in = rows
 * out + skipped + quarantined.
 */
class InvalidRowsJobTest extends LocalSpark {
  @TempDir
  Path tmp;

  /**
   * 40 rows through the seed layer (4 -> 3, weight rows [1,2,3,4], [2,3,4,5], [3,4,5,6]): row i is [i, 0, 0, 1],
   * except 7 (null vector), 13 (5 values), 21 (a null element), 30 (NaN) and 33 (3 values).
   */
  private static final Map<Long, String> BAD = Map.of(7L, "null-vector", 13L, "wrong-width", 21L, "null-element",
      30L, "non-finite", 33L, "wrong-width");

  private Path input(String format) {
    Path path = tmp.resolve("in-" + format);
    if (java.nio.file.Files.exists(path)) {
      return path;
    }
    StructType schema = new StructType().add("id", DataTypes.LongType, false).add("tag", DataTypes.StringType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, true));
    List<Row> rows = new ArrayList<>();
    for (long i = 0; i < 40; i++) {
      List<Float> x = new ArrayList<>(Arrays.asList((float) i, 0f, 0f, 1f));
      if (i == 13) {
        x.add(5f);
      } else if (i == 21) {
        x.set(2, null);
      } else if (i == 30) {
        x.set(1, Float.NaN);
      } else if (i == 33) {
        x.remove(3);
      }
      rows.add(RowFactory.create(i, "t" + i, i == 7 ? null : x));
    }
    spark.createDataFrame(rows, schema).repartition(3).write().format(format).save(path.toString());
    return path;
  }

  private JobConfig config(Path input, String format, String policy, String... extra) {
    List<String> overrides = new ArrayList<>(List.of("input.path=" + input, "input.format=" + format,
        "output.path=" + tmp.resolve("out-" + format + "-" + policy), "invalid-rows=" + policy, "block.max-rows=8",
        "hooks.pre=[{type: nan-guard, action: fail}]"));
    if (policy.equals("quarantine")) {
      overrides.add("output.quarantine-path=" + tmp.resolve("quarantine-" + format));
    }
    overrides.addAll(List.of(extra));
    try {
      return JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), overrides);
    } catch (java.io.UncheckedIOException e) {
      throw e;
    }
  }

  /** x W^T for x = [i, 0, 0, 1]: [i + 4, 2i + 5, 3i + 6]. */
  private static List<Float> expected(long i) {
    return List.of((float) (i + 4), (float) (2 * i + 5), (float) (3 * i + 6));
  }

  private Map<Long, List<Float>> outputById(JobConfig config) {
    Map<Long, List<Float>> out = new HashMap<>();
    for (Row row : spark.read().parquet(config.output().path()).collectAsList()) {
      out.put(row.getLong(row.fieldIndex("id")), row.isNullAt(row.fieldIndex("output")) ? null
          : row.getList(row.fieldIndex("output")));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} path, invalid-rows {1}")
  @CsvSource({"columnar, skip", "row, skip", "columnar, null", "row, null", "columnar, quarantine",
      "row, quarantine"})
  void everyRowIsWrittenQuarantinedOrSkippedAndTheCountsReconcile(String path, String policy) {
    String format = "parquet";
    JobConfig config = config(input(format), format, policy, "output.path=" + tmp.resolve(path + "-" + policy));
    RunSummary summary;
    spark.conf().set("spark.sql.parquet.enableVectorizedReader", String.valueOf(path.equals("columnar")));
    try {
      summary = new LinearJob(config, spark).run();
    } finally {
      spark.conf().unset("spark.sql.parquet.enableVectorizedReader");
    }

    Map<Long, List<Float>> output = outputById(config);
    for (long i = 0; i < 40; i++) {
      if (!BAD.containsKey(i)) {
        assertThat(output.get(i)).as("row %d", i).isEqualTo(expected(i));
      } else if (policy.equals("null")) {
        assertThat(output).as("row %d", i).containsKey(i);
        assertThat(output.get(i)).as("row %d", i).isNull();
      } else {
        assertThat(output).as("row %d", i).doesNotContainKey(i);
      }
    }
    assertThat(summary.rowsIn()).isEqualTo(40);
    assertThat(summary.invalidRows()).containsEntry("null-vector", 1L).containsEntry("wrong-width", 2L)
        .containsEntry("null-element", 1L).containsEntry("non-finite", 1L);
    long dropped = policy.equals("null") ? 0 : summary.invalidRowsTotal();
    assertThat(summary.rowsOut()).isEqualTo(output.size()).isEqualTo(40 - dropped);
    assertThat(summary.rowsIn()).isEqualTo(summary.rowsOut() + dropped);

    if (policy.equals("quarantine")) {
      Map<Long, String> quarantined = new HashMap<>();
      for (Row row : spark.read().parquet(config.output().quarantinePath()).collectAsList()) {
        quarantined.put(row.getLong(row.fieldIndex("id")), row.getString(row.fieldIndex("reason")));
        assertThat(row.getString(row.fieldIndex("tag"))).isEqualTo("t" + row.getLong(row.fieldIndex("id")));
      }
      assertThat(quarantined).isEqualTo(BAD);
    }
    assertNoArrowMemoryHeld();
  }

  @Test
  void errorPolicyFailsNamingTheRowAndLeavesNoOutput() {
    JobConfig config = config(input("parquet"), "parquet", "error");
    assertThatThrownBy(() -> new LinearJob(config, spark).run())
        .rootCause()
        .isInstanceOf(InvalidRowException.class)
        .hasMessageContaining("Invalid row")
        .hasMessageContaining("(id=")
        .hasMessageContaining("set invalid-rows to skip, null or quarantine");
    assertThat(Path.of(config.output().path())).doesNotExist();
    assertNoArrowMemoryHeld();
  }

  @Test
  void yamlNullNamesTheNullPolicyInAFileAndInAnOverride() {
    String yaml = "module: {in-features: 4, out-features: 3}\ninput: {path: in, column: features}\n"
        + "output: {path: out}\ninvalid-rows: null\n";
    assertThat(JobConfig.parse(yaml, "conf/n.yaml", List.of()).invalidRows())
        .isEqualTo(dev.sparklinear.spark.InvalidRowPolicy.NULL);
    assertThat(JobConfig.parse(yaml.replace("invalid-rows: null", "invalid-rows: skip"), "conf/n.yaml",
        List.of("invalid-rows=null")).invalidRows()).isEqualTo(dev.sparklinear.spark.InvalidRowPolicy.NULL);
  }

  @Test
  void quarantineNeedsAPath() {
    assertThatThrownBy(() -> JobConfig.parse("module: {in-features: 4, out-features: 3}\n"
            + "input: {path: in, column: features}\noutput: {path: out}\ninvalid-rows: quarantine\n", "conf/q.yaml",
        List.of()))
        .hasMessageContaining("Missing key 'output.quarantine-path' in conf/q.yaml");
  }
}
