package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * {@link Erf} against {@code erf} and {@code erfc} computed by PyTorch in float64 (the C library's), at about 2000
 * points from {@code torch-trees/modules.json}: a dense grid on [-7, 7], magnitudes from 1e-30 to 6.3 of both signs,
 * the split points of common implementations, the tails, infinities and NaN.
 */
class ErfTest {
  private static final JsonNode POINTS = TorchFixtures.read("/torch-trees/modules.json").get("erf");

  @Test
  void erfHasARelativeErrorBelow2e15() {
    assertWithinRelative("erf", 2e-15, true);
  }

  @Test
  void erfcHasARelativeErrorBelow1e10EvenInTheTails() {
    assertWithinRelative("erfc", 1e-10, false);
  }

  @Test
  void roundedToFloat32BothAreWithinOneUnitInTheLastPlace() {
    JsonNode x = POINTS.get("x");
    for (int i = 0; i < x.size(); i++) {
      double at = x.get(i).doubleValue();
      for (String function : new String[] {"erf", "erfc"}) {
        float expected = (float) POINTS.get(function).get(i).doubleValue();
        float actual = (float) (function.equals("erf") ? Erf.erf(at) : Erf.erfc(at));
        if (Float.isNaN(expected)) {
          assertThat(actual).as("%s(%s)", function, at).isNaN();
        } else {
          assertThat(Math.abs(actual - expected)).as("%s(%s): %s, torch %s", function, at, actual, expected)
              .isLessThanOrEqualTo(Math.ulp(expected));
        }
      }
    }
  }

  @Test
  void specialValuesAreTheLimits() {
    assertThat(Erf.erf(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
    assertThat(Erf.erf(Double.NEGATIVE_INFINITY)).isEqualTo(-1.0);
    assertThat(Erf.erfc(Double.POSITIVE_INFINITY)).isEqualTo(0.0);
    assertThat(Erf.erfc(Double.NEGATIVE_INFINITY)).isEqualTo(2.0);
    assertThat(Double.doubleToRawLongBits(Erf.erf(-0.0))).as("odd: the sign of zero is kept")
        .isEqualTo(Double.doubleToRawLongBits(-0.0));
    assertThat(Erf.erf(Double.NaN)).isNaN();
    assertThat(Erf.erfc(Double.NaN)).isNaN();
  }

  private static void assertWithinRelative(String function, double bound, boolean erf) {
    JsonNode x = POINTS.get("x");
    JsonNode expected = POINTS.get(function);
    assertThat(x.size()).isGreaterThan(2000);
    for (int i = 0; i < x.size(); i++) {
      double at = x.get(i).doubleValue();
      double want = expected.get(i).doubleValue();
      double got = erf ? Erf.erf(at) : Erf.erfc(at);
      if (Double.isNaN(want)) {
        assertThat(got).as("%s(%s)", function, at).isNaN();
      } else if (want == 0) {
        assertThat(got).as("%s(%s)", function, at).isZero();
      } else {
        assertThat(Math.abs(got - want) / Math.abs(want)).as("%s(%s): %s, torch %s", function, at, got, want)
            .isLessThanOrEqualTo(bound);
      }
    }
  }
}
