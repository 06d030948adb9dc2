package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConfigKeyTest {
  @Test
  void keysAreKebabCaseWithDots() {
    assertThat(ConfigKey.keys()).allMatch(key -> key.matches("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*"));
  }

  @Test
  void keysAreUnique() {
    assertThat(ConfigKey.keys()).doesNotHaveDuplicates().hasSize(ConfigKey.values().length);
  }

  @Test
  void everyKeyIsDescribed() {
    for (ConfigKey key : ConfigKey.values()) {
      assertThat(key.description()).as(key.key()).isNotBlank().endsWith(".");
    }
  }

  @Test
  void defaultsHaveTheTypeTheConfigHolds() {
    assertThat(ConfigKey.BLOCK_MAX_ROWS.defaultValue()).hasValue(4096);
    assertThat(ConfigKey.BLOCK_MAX_BYTES.defaultValue()).hasValue(8L * 1024 * 1024);
    assertThat(ConfigKey.MODULE_BIAS.defaultValue()).hasValue(true);
    assertThat(ConfigKey.MODULE_WEIGHTS_FORMAT.defaultValue()).hasValue(WeightsFormat.INLINE);
    assertThat(ConfigKey.MODULE_WEIGHTS_PREFIX.defaultValue()).hasValue("");
    assertThat(ConfigKey.MODULE_IN_FEATURES.defaultValue()).isEmpty();
  }

  @Test
  void enumKeysListTheirValuesInConfigSpelling() {
    assertThat(ConfigKey.OUTPUT_LAYOUT.allowedValues()).containsExactly("array", "vector", "columns");
    assertThat(ConfigKey.OUTPUT_LAYOUT.typeText()).isEqualTo("one of `array`, `vector`, `columns`");
    assertThat(ConfigKey.BLOCK_MAX_ROWS.allowedValues()).isEmpty();
  }
}
