package dev.sparklinear.job.config;

import dev.sparklinear.testing.RepositoryRoot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The configs shipped in {@code conf/} parse and mean what the README says they do. */
class ExampleConfigsTest {
  @Test
  void seedExampleHoldsTheKnownMatrixWithoutBias() {
    JobConfig config = JobConfig.load(RepositoryRoot.find().resolve("conf/seed-example.yaml"), List.of());

    assertThat(config.inFeatures()).isEqualTo(4);
    assertThat(config.outFeatures()).isEqualTo(3);
    assertThat(config.bias()).isFalse();
    assertThat(config.weightsFormat()).isEqualTo(WeightsFormat.INLINE);
    assertThat(config.inlineWeight()).hasValueSatisfying(w -> assertThat(w).isDeepEqualTo(
        new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}}));
    assertThat(config.inlineBias()).isEmpty();
    assertThat(config.inputPath()).isEqualTo("data/seed/features.parquet");
    assertThat(config.inputColumn()).hasValue("features");
    assertThat(config.outputPath()).isEqualTo("out/seed-example");
    assertThat(config.outputMode()).isEqualTo(OutputMode.OVERWRITE);
  }

  @Test
  void random64x16IsSeededWithBias() {
    JobConfig config = JobConfig.load(RepositoryRoot.find().resolve("conf/random-64x16.yaml"), List.of());

    assertThat(config.inFeatures()).isEqualTo(64);
    assertThat(config.outFeatures()).isEqualTo(16);
    assertThat(config.bias()).isTrue();
    assertThat(config.initSeed()).hasValue(7);
    assertThat(config.inlineWeight()).isEmpty();
    assertThat(config.inputPath()).isEqualTo("data/random-64/");
    assertThat(config.inputColumn()).hasValue("features");
    assertThat(config.outputPath()).isEqualTo("out/random-64x16");
    assertThat(config.outputMode()).isEqualTo(OutputMode.OVERWRITE);
  }
}
