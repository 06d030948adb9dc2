package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.FitFixtures;
import dev.sparklinear.testing.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fits against torch: for each model (a Linear, a two-layer MLP), loss and optimizer of the fixtures made by
 * {@code src/test/resources/fit/make_fixtures.py}, the same full-batch training done by {@code torch.optim} in float64
 * on the same float32 data. The fit's checkpoint holds parameters within 1e-4 of torch's, and its summary the mean
 * loss of every epoch within 1e-5 relative. Each case prints its largest errors against the float64 run beside those
 * of torch's own float32 run of the same fit, from the same fixtures.
 */
class FitTorchParityTest extends LocalSpark {
  private static final double PARAMETER_TOLERANCE = 1e-4;
  private static final double LOSS_TOLERANCE = 1e-5;

  @TempDir
  static Path tmp;
  private static Path input;

  @BeforeAll
  static void writeInput() {
    input = FitFixtures.writeInput(spark, tmp.resolve("input"), 3);
  }

  static List<String> cases() {
    return FitFixtures.caseNames();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void parametersAndLossesMatchTorchsFloat64Run(String name) throws Exception {
    JsonNode c = FitFixtures.testCase(name);
    Path output = tmp.resolve("out-" + name);
    Path config = Files.writeString(tmp.resolve(name + ".yaml"), FitFixtures.config(c, input, output));

    FitSummary summary = new FitJob(JobConfig.load(config, List.of()), spark, false).fit();

    JsonNode expectedLosses = c.get("losses64");
    JsonNode written = new ObjectMapper().readTree(output.resolve(RunSummary.FILE_NAME).toFile());
    JsonNode losses = written.get("fit").get("losses");
    assertThat(losses.size()).isEqualTo(expectedLosses.size());
    SafetensorsFile model = SafetensorsReader.read(output.resolve(FitCheckpoint.MODEL));
    JsonNode final64 = c.get("final64");
    assertThat(model.tensors().keySet()).containsExactlyInAnyOrderElementsOf(() -> final64.fieldNames());
    // Torch's own float32 run of the same fit, against the same float64 run, for scale.
    JsonNode final32 = c.get("final32");
    System.out.printf("%s: largest |x - float64| of a parameter: ours %.3g, torch float32 %.3g; relative of a loss:"
        + " ours %.3g, torch float32 %.3g%n", name,
        largestParameterError(key -> model.tensor(key).toArray(), final64),
        largestParameterError(key -> toFloats(FitFixtures.tensor(final32, key)), final64),
        largestLossError(losses, expectedLosses), largestLossError(c.get("losses32"), expectedLosses));
    for (int epoch = 0; epoch < losses.size(); epoch++) {
      double expected = expectedLosses.get(epoch).asDouble();
      assertThat(losses.get(epoch).asDouble()).as("%s: loss of epoch %d", name, epoch + 1)
          .isCloseTo(expected, within(LOSS_TOLERANCE * Math.abs(expected)));
      assertThat(summary.losses().get(epoch)).isEqualTo(losses.get(epoch).asDouble());
    }

    final64.fieldNames().forEachRemaining(key -> {
      double[] expected = FitFixtures.tensor(final64, key);
      Tensor actual = model.tensor(key);
      assertThat(actual.numel()).isEqualTo(expected.length);
      for (int i = 0; i < expected.length; i++) {
        assertThat((double) actual.get(i)).as("%s: %s[%d]", name, key, i)
            .isCloseTo(expected[i], within(PARAMETER_TOLERANCE));
      }
    });
    assertThat(summary.rowsUsed()).isEqualTo(240);
    assertThat(summary.invalidRowsTotal()).isZero();
  }

  /** The largest difference of a parameter value from torch's float64 run. */
  private static double largestParameterError(Function<String, float[]> parameters, JsonNode final64) {
    double largest = 0;
    for (Iterator<String> keys = final64.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      double[] expected = FitFixtures.tensor(final64, key);
      float[] actual = parameters.apply(key);
      for (int i = 0; i < expected.length && i < actual.length; i++) {
        largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
      }
    }
    return largest;
  }

  private static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  private static double largestLossError(JsonNode losses, JsonNode expected) {
    double largest = 0;
    for (int epoch = 0; epoch < Math.min(losses.size(), expected.size()); epoch++) {
      double torch = expected.get(epoch).asDouble();
      largest = Math.max(largest, Math.abs(losses.get(epoch).asDouble() - torch) / Math.abs(torch));
    }
    return largest;
  }
}
