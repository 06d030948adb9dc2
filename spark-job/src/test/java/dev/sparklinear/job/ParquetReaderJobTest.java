package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code input.parquet-reader}: the whole job on the bundled data, with our feature reader and with Spark's. */
class ParquetReaderJobTest extends LocalSpark {
  @TempDir
  Path tmp;

  private RunSummary run(String reader) throws IOException {
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/random-64x16.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/random-64"), "output.path=" + tmp.resolve(reader),
        "input.parquet-reader=" + reader));
    return new LinearJob(config, spark).run();
  }

  @Test
  void autoAndSparkWriteTheSameOutput() throws IOException {
    RunSummary auto = run("auto");
    RunSummary sparks = run("spark");
    assertThat(auto.rowsIn()).isEqualTo(sparks.rowsIn()).isPositive();
    assertThat(auto.rowsOut()).isEqualTo(sparks.rowsOut());
    List<Row> ours = spark.read().parquet(tmp.resolve("auto").toString()).collectAsList();
    List<Row> theirs = spark.read().parquet(tmp.resolve("spark").toString()).collectAsList();
    assertThat(ours).hasSize((int) sparks.rowsOut());
    for (int i = 0; i < ours.size(); i++) {
      assertThat(bits(ours.get(i))).as("row %d", i).isEqualTo(bits(theirs.get(i)));
    }
    assertThat(auto.config()).containsEntry("input.parquet-reader", "auto");
    assertThat(sparks.config()).containsEntry("input.parquet-reader", "spark");
  }

  /** A row with its float lists as bit patterns, so that NaN and -0.0 compare exactly. */
  private static String bits(Row row) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < row.size(); i++) {
      Object value = row.get(i);
      if (value instanceof scala.collection.Seq<?> seq) {
        StringBuilder list = new StringBuilder("[");
        scala.jdk.javaapi.CollectionConverters.asJava(seq)
            .forEach(v -> list.append(v == null ? "null" : Integer.toHexString(Float.floatToRawIntBits((Float) v)))
                .append(','));
        value = list.append(']');
      }
      text.append(value).append('|');
    }
    return text.toString();
  }
}
