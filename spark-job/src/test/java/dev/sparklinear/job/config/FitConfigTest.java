package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sparklinear.testing.RepositoryRoot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code fit} section: its keys, torch's defaults, and the problems the binder reports in it. */
class FitConfigTest {
  private static final String RUN = """
      module: {in-features: 4, out-features: 1}
      input: {path: data/in.parquet, column: features}
      output: {path: out/x}
      """;

  private static JobConfig parse(String yaml, String... overrides) {
    return JobConfig.parse(yaml, "conf/fit.yaml", List.of(overrides));
  }

  private static List<String> problemsOf(String yaml, String... overrides) {
    return catchThrowableOfType(ConfigException.class, () -> parse(yaml, overrides)).problems();
  }

  @Test
  void aConfigWithoutFitHasNoFitSectionAndNeedsNoneOfItsKeys() {
    JobConfig config = parse(RUN);

    assertThat(config.fit()).isNull();
    assertThat(config.resolved()).containsEntry("fit.epochs", null).containsEntry("fit.batch", null);
  }

  @Test
  void bindsTheIssuesExampleWithTorchsDefaultsForWhatIsLeftOut() {
    JobConfig config = parse(RUN + """
        fit:
          label-column: label
          loss: mse
          optimizer: {type: sgd, lr: 0.05, momentum: 0.9, nesterov: false, weight-decay: 0.0}
          epochs: 30
          batch: full
        """);

    FitConfig fit = config.fit();
    assertThat(fit).isEqualTo(new FitConfig("label", FitLoss.MSE,
        new OptimizerConfig.Sgd(0.05, 0.9, 0.0, 0.0, false), 30, FitBatch.FULL, null));
    assertThat(config.resolved()).containsEntry("fit.optimizer",
        "sgd {lr: 0.05, momentum: 0.9, dampening: 0.0, weight-decay: 0.0, nesterov: false}");
  }

  @Test
  void adamAndAdamWTakeTorchsDefaults() {
    String yaml = RUN + "fit: {label-column: y, loss: bce-with-logits, optimizer: {type: adam}, epochs: 3}\n";

    assertThat(parse(yaml).fit().optimizer()).isEqualTo(new OptimizerConfig.Adam(1e-3, List.of(0.9, 0.999), 1e-8,
        0.0, false));
    assertThat(parse(yaml, "fit.optimizer={type: adamw, lr: 0.01}").fit().optimizer())
        .isEqualTo(new OptimizerConfig.AdamW(0.01, List.of(0.9, 0.999), 1e-8, 0.01, false));
    assertThat(parse(yaml, "fit.loss=cross-entropy").fit().loss()).isEqualTo(FitLoss.CROSS_ENTROPY);
    assertThat(parse(yaml).fit().batch()).isEqualTo(FitBatch.FULL);
  }

  @Test
  void aFitSectionNeedsItsRequiredKeys() {
    assertThat(problemsOf(RUN + "fit: {loss: mse}\n")).containsExactly(
        "Missing required key 'fit.label-column' in conf/fit.yaml; add it, or pass --set"
            + " fit.label-column=<non-empty string>",
        "Missing required key 'fit.optimizer' in conf/fit.yaml; add it, or pass --set fit.optimizer=<map with"
            + " type sgd, adam or adamw and torch's arguments, e.g. {type: sgd, lr: 0.05, momentum: 0.9}, {type:"
            + " adam, lr: 0.001, betas: [0.9, 0.999], eps: 1.0e-8, weight-decay: 0.0} or {type: adamw, lr: 0.001,"
            + " weight-decay: 0.01}>",
        "Missing required key 'fit.epochs' in conf/fit.yaml; add it, or pass --set fit.epochs=<positive integer>");
  }

  @Test
  void wrongValuesAndUnknownKeysAreNamed() {
    List<String> problems = problemsOf(RUN + """
        fit:
          label-column: y
          loss: hinge
          optimizer: {type: rmsprop, lr: 0.1}
          epochs: 0
          batchs: full
        """);

    assertThat(problems).containsExactlyInAnyOrder(
        "fit.loss in conf/fit.yaml must be one of [mse, bce-with-logits, cross-entropy], got 'hinge'",
        "fit.optimizer in conf/fit.yaml must be " + OptimizerConfig.EXPECT + ", got {type: rmsprop, lr: 0.1}",
        "fit.epochs in conf/fit.yaml must be a positive integer, got 0",
        "Unknown config key 'fit.batchs' in conf/fit.yaml; did you mean 'fit.batch'?");
  }

  @Test
  void theShippedFitExampleTrainsAnMlpWithAdam() {
    JobConfig config = JobConfig.load(RepositoryRoot.resolve("conf/fit-example.yaml"), List.of());

    assertThat(config.module().layers()).hasSize(3);
    assertThat(config.fit().labelColumn()).isEqualTo("y");
    assertThat(config.fit().loss()).isEqualTo(FitLoss.MSE);
    assertThat(config.fit().optimizer()).isEqualTo(new OptimizerConfig.Adam(0.02, List.of(0.9, 0.999), 1e-8, 0.0,
        false));
    assertThat(config.input().path()).isEqualTo("data/fit/train.parquet");
  }
}
