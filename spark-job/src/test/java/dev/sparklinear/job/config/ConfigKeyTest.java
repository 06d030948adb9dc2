package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the records' declarations cannot say by their types: how keys are spelled and documented. */
class ConfigKeyTest {
  @Test
  void keysAreKebabCaseWithDots() {
    assertThat(ConfigKey.keys()).allMatch(key -> key.matches("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*"))
        .contains("module.in-features", "module.weights.bias-path", "input.parquet-reader", "output.parquet-lists",
            "invalid-rows");
  }

  @Test
  void keysAreUnique() {
    assertThat(ConfigKey.keys()).doesNotHaveDuplicates().hasSize(40);
  }

  @Test
  void everyKeyIsDescribed() {
    for (ConfigKey key : ConfigKey.all()) {
      assertThat(key.doc().doc()).as(key.key()).isNotBlank().endsWith(".");
      assertThat(key.expectation()).as(key.key()).isNotBlank();
    }
  }

  @Test
  void enumKeysListTheirValuesInConfigSpelling() {
    assertThat(ConfigKey.byKey("output.layout").orElseThrow().expectation())
        .isEqualTo("one of [array, vector, columns]");
    assertThat(ConfigKey.byKey("output.parquet-lists").orElseThrow().typeText())
        .isEqualTo("one of [two-level, three-level]");
    assertThat(ConfigKey.byKey("block.max-rows").orElseThrow().typeText()).isEqualTo("positive integer");
  }
}
