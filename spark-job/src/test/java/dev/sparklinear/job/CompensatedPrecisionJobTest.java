package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code module.precision: compensated} end to end: {@code conf/random-64x16.yaml} on the bundled data, every output
 * against the exact value of {@code b + sum_k x_k w_k} (exact products, summed exactly in {@link BigDecimal}).
 *
 * <p>Each output must be within {@code ulp(F) / 2 + 2 gamma(65)^2 (|b| + sum_k |x_k w_k|)} of the exact value
 * {@code E}, {@code F} being {@code E} rounded to float32: half an ulp for the final rounding plus Dot2's error bound
 * (derived in {@code CompensatedLinearKernelTest}); and at least 99% of the outputs must be {@code F} itself.
 */
class CompensatedPrecisionJobTest extends LocalSpark {
  @TempDir
  Path tmp;

  @AfterEach
  void noArrowMemoryHeldAfterTheJob() {
    assertNoArrowMemoryHeld();
  }

  @Test
  void everyOutputIsTheExactValueRoundedToFloat32AndTheSummaryNamesTheKernel() {
    Path output = tmp.resolve("compensated");
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/random-64x16.yaml"), List.of(
        "input.path=" + RepositoryRoot.resolve("data/random-64"), "output.path=" + output,
        "output.keep=[features]", "module.precision=compensated"));
    Linear linear = (Linear) ModuleLoader.load(config, new Configuration()).module();
    float[][] weight = rows(linear.weight().toArray(), 16, 64);
    float[] bias = linear.bias().orElseThrow().toArray();

    RunSummary summary = new LinearJob(config, spark).run();

    int partitions = spark.read().parquet(RepositoryRoot.resolve("data/random-64").toString()).rdd()
        .getNumPartitions();
    assertThat(summary.kernels()).containsExactly(Map.entry("compensated", (long) partitions));
    assertThat(summary.toText()).contains("kernel:  compensated (" + partitions + " partition")
        .doesNotContain("note:");
    assertThat(summary.config()).containsEntry("module.precision", "compensated");
    List<Row> rows = spark.read().parquet(output.toString()).select("features", "output").collectAsList();
    assertThat(rows).hasSize((int) summary.rowsOut()).isNotEmpty();
    double gamma = 65 * 0x1p-24 / (1 - 65 * 0x1p-24);
    int outputs = 0;
    int correctlyRounded = 0;
    for (Row row : rows) {
      float[] x = floats(row.getList(0));
      float[] y = floats(row.getList(1));
      for (int o = 0; o < 16; o++) {
        BigDecimal exact = new BigDecimal(bias[o]);
        double absoluteSum = Math.abs(bias[o]);
        for (int k = 0; k < 64; k++) {
          double product = (double) x[k] * weight[o][k]; // exact in double
          exact = exact.add(new BigDecimal(product));
          absoluteSum += Math.abs(product);
        }
        float rounded = nearestFloat(exact);
        double error = new BigDecimal(y[o]).subtract(exact).abs().doubleValue();
        assertThat(error).as("output %d of features %s: y = %s, exact = %s", o, row.getList(0), y[o], exact)
            .isLessThanOrEqualTo(Math.ulp(rounded) / 2 + 2 * gamma * gamma * absoluteSum);
        outputs++;
        correctlyRounded += y[o] == rounded ? 1 : 0;
      }
    }
    System.out.printf(Locale.ROOT, "[compensated job] %d of %d outputs correctly rounded (%.2f%%)%n", correctlyRounded,
        outputs, 100.0 * correctlyRounded / outputs);
    assertThat((double) correctlyRounded / outputs).isGreaterThanOrEqualTo(0.99);
  }

  /** The float32 nearest to {@code exact}, ties to even, by exact comparison of the candidates around it. */
  private static float nearestFloat(BigDecimal exact) {
    float guess = (float) exact.doubleValue();
    float best = guess;
    for (float candidate : new float[] {Math.nextDown(guess), Math.nextUp(guess)}) {
      int order = new BigDecimal(candidate).subtract(exact).abs()
          .compareTo(new BigDecimal(best).subtract(exact).abs());
      if (order < 0 || order == 0 && (Float.floatToRawIntBits(candidate) & 1) == 0) {
        best = candidate;
      }
    }
    return best;
  }

  private static float[] floats(List<Object> list) {
    float[] values = new float[list.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = ((Number) list.get(i)).floatValue();
    }
    return values;
  }

  private static float[][] rows(float[] values, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(values, r * cols, m[r], 0, cols);
    }
    return m;
  }
}
