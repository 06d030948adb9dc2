package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NearestKeyTest {
  @Test
  void levenshteinCountsEdits() {
    assertThat(NearestKey.levenshtein("kitten", "sitting")).isEqualTo(3);
    assertThat(NearestKey.levenshtein("", "abc")).isEqualTo(3);
    assertThat(NearestKey.levenshtein("same", "same")).isZero();
  }

  @Test
  void suggestsTheKeyWithTheFewestEdits() {
    assertThat(NearestKey.among("output.fromat", ConfigKey.keys())).hasValue("output.format");
    assertThat(NearestKey.among("module.weight.format", ConfigKey.keys())).hasValue("module.weights.format");
  }

  @Test
  void suggestsTheSameKeyUnderAnotherSection() {
    assertThat(NearestKey.among("output.max-bytes", ConfigKey.keys())).hasValue("block.max-bytes");
  }

  @Test
  void suggestsTheKeyWhoseSectionWasLeftOut() {
    assertThat(NearestKey.among("in-features", ConfigKey.keys())).hasValue("module.in-features");
    assertThat(NearestKey.among("weights.format", ConfigKey.keys())).hasValue("module.weights.format");
  }

  @Test
  void suggestsNothingForAnUnrelatedKey() {
    assertThat(NearestKey.among("executor-count", ConfigKey.keys())).isEmpty();
  }
}
