package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.InvalidRowException;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a failed run leaves, with either writer: no output folder where a new output was expected, and the previous
 * output, untouched, where an overwrite failed; never a staging folder beside it.
 */
class OutputPlacementTest extends LocalSpark {
  private static final StructType FEATURES = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true);

  @TempDir
  Path tmp;

  @AfterEach
  void noArrowMemoryHeldAfterTheJob() {
    assertNoArrowMemoryHeld();
  }

  /** Rows of ids 0.. in one file; each row's features are {@code width} copies of its id. */
  private Path input(String name, int... widths) {
    List<Row> rows = new ArrayList<>();
    for (int id = 0; id < widths.length; id++) {
      Float[] features = new Float[widths[id]];
      Arrays.fill(features, (float) id);
      rows.add(RowFactory.create((long) id, List.of(features)));
    }
    Path path = tmp.resolve(name);
    spark.createDataFrame(rows, FEATURES).coalesce(1).write().parquet(path.toString());
    return path;
  }

  private static LinearJob job(Path input, Path output, String writer, String mode) {
    return new LinearJob(JobConfig.load(RepositoryRoot.resolve("conf/seed-example.yaml"), List.of(
        "input.path=" + input, "output.path=" + output, "output.parquet-writer=" + writer, "output.mode=" + mode,
        "block.max-rows=1")), spark);
  }

  /** A later row of the wrong width fails the job on the executors, after the preflight checks pass. */
  private Path failingInput() {
    return input("late-bad", 4, 4, 5);
  }

  @ParameterizedTest
  @CsvSource({"columnar, errorifexists", "spark, errorifexists", "columnar, overwrite", "spark, overwrite"})
  void aFailedRunLeavesNoOutputFolder(String writer, String mode) throws IOException {
    Path output = tmp.resolve("new-out");

    assertThatThrownBy(() -> job(failingInput(), output, writer, mode).run())
        .hasRootCauseInstanceOf(InvalidRowException.class);

    assertThat(output).doesNotExist();
    assertThat(siblings()).containsOnly("late-bad");
  }

  @ParameterizedTest
  @ValueSource(strings = {"columnar", "spark"})
  void aFailedOverwriteKeepsThePreviousOutput(String writer) throws IOException {
    Path output = tmp.resolve("kept-out");
    job(input("good", 4, 4), output, writer, "errorifexists").run();
    Map<String, Long> before = sizes(output);

    assertThatThrownBy(() -> job(failingInput(), output, writer, "overwrite").run())
        .hasRootCauseInstanceOf(InvalidRowException.class);

    assertThat(sizes(output)).isEqualTo(before);
    // Row 1 of the good input: [1, 1, 1, 1] times the seed's weights.
    assertThat(spark.read().parquet(output.toString()).where("id = 1").first().getList(1))
        .containsExactly(10f, 14f, 18f);
    assertThat(siblings()).containsOnly("good", "kept-out", "late-bad");
  }

  /** Every file under {@code folder}, by name, with its size. */
  private static Map<String, Long> sizes(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      Map<String, Long> sizes = new TreeMap<>();
      for (Path file : files.toList()) {
        sizes.put(file.getFileName().toString(), Files.size(file));
      }
      return sizes;
    }
  }

  /** The names in the test's folder, hidden ones included. */
  private Set<String> siblings() throws IOException {
    try (Stream<Path> files = Files.list(tmp)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }
}
