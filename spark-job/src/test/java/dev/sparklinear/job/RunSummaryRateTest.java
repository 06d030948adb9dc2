package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunSummaryRateTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "1953112.4 | 1,953,112",
      "100       | 100",
      "99.4      | 99",
      "12.5      | 13",
      "0.25      | 0.25",
      "0.2489    | 0.25",
      "0.0031    | 0.0031",
      "0         | 0"})
  void ratesShowWholeRowsOrTwoSignificantDigits(double perSecond, String expected) {
    assertThat(RunSummary.rate(perSecond)).isEqualTo(expected);
  }
}
