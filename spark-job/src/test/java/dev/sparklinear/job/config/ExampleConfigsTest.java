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

    assertThat(config.module().inFeatures()).isEqualTo(4);
    assertThat(config.module().outFeatures()).isEqualTo(3);
    assertThat(config.module().bias()).isFalse();
    assertThat(config.module().weights().format()).isEqualTo(WeightsFormat.INLINE);
    assertThat(config.module().weights().weight()).isEqualTo(List.of(
        List.of(1f, 2f, 3f, 4f), List.of(2f, 3f, 4f, 5f), List.of(3f, 4f, 5f, 6f)));
    assertThat(config.module().weights().bias()).isNull();
    assertThat(config.input().path()).isEqualTo("data/seed/features.parquet");
    assertThat(config.input().column()).isEqualTo("features");
    assertThat(config.output().path()).isEqualTo("out/seed-example");
    assertThat(config.output().mode()).isEqualTo(OutputMode.OVERWRITE);
  }

  @Test
  void pytorchHeadListsTheLayersOfTheHeadInItsFile() {
    JobConfig config = JobConfig.load(RepositoryRoot.find().resolve("conf/pytorch-head.yaml"), List.of());

    assertThat(config.module().layers()).extracting(Layer::typeName).containsExactly("linear", "layer-norm", "gelu",
        "linear", "batch-norm-1d", "relu", "dropout", "linear");
    assertThat(config.module().widths()).containsExactly(4, 8, 8, 8, 8, 8, 8, 8, 3);
    assertThat(config.module().weights().format()).isEqualTo(WeightsFormat.SAFETENSORS);
    assertThat(config.module().weights().path()).isEqualTo("data/heads/head.safetensors");
    assertThat(config.module().weights().prefix()).isEqualTo("head.");
    assertThat(config.input().path()).isEqualTo("data/seed/features.parquet");
  }

  @Test
  void random64x16IsSeededWithBias() {
    JobConfig config = JobConfig.load(RepositoryRoot.find().resolve("conf/random-64x16.yaml"), List.of());

    assertThat(config.module().inFeatures()).isEqualTo(64);
    assertThat(config.module().outFeatures()).isEqualTo(16);
    assertThat(config.module().bias()).isTrue();
    assertThat(config.module().initSeed()).isEqualTo(7L);
    assertThat(config.module().weights().weight()).isNull();
    assertThat(config.input().path()).isEqualTo("data/random-64/");
    assertThat(config.input().column()).isEqualTo("features");
    assertThat(config.output().path()).isEqualTo("out/random-64x16");
    assertThat(config.output().mode()).isEqualTo(OutputMode.OVERWRITE);
  }
}
