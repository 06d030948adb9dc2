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
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fits against torch: for each model (a Linear, a two-layer MLP), loss and optimizer of the fixtures made by
 * {@code src/test/resources/fit/make_fixtures.py}, the same full-batch training done by {@code torch.optim} in float64
 * on the same float32 data. The fit's checkpoint holds parameters within 1e-4 of torch's, and its summary the mean
 * loss of every epoch within 1e-5 relative.
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
    for (int epoch = 0; epoch < losses.size(); epoch++) {
      double expected = expectedLosses.get(epoch).asDouble();
      assertThat(losses.get(epoch).asDouble()).as("%s: loss of epoch %d", name, epoch + 1)
          .isCloseTo(expected, within(LOSS_TOLERANCE * Math.abs(expected)));
      assertThat(summary.losses().get(epoch)).isEqualTo(losses.get(epoch).asDouble());
    }

    SafetensorsFile model = SafetensorsReader.read(output.resolve(FitCheckpoint.MODEL));
    JsonNode final64 = c.get("final64");
    assertThat(model.tensors().keySet()).containsExactlyInAnyOrderElementsOf(() -> final64.fieldNames());
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
}
