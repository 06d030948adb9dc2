package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoublePredicate;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link Erf} in units in the last place against values exact to 21 digits, computed with mpmath by
 * {@code erf/make_fixture.py} at about 3500 points: around every branch point of the algorithm (neighbouring doubles
 * and small offsets), drawn across each branch, powers of two from the smallest subnormal, both signs. And, rounded
 * to float32, against PyTorch's float64 {@code erf} and {@code erfc} at the points of {@code torch-trees/modules.json}.
 */
class ErfTest {
  private static final List<Point> POINTS = readPoints("/erf/erf.tsv");
  private static final JsonNode TORCH_POINTS = TorchFixtures.read("/torch-trees/modules.json").get("erf");

  @Test
  void erfIsWithinOneUlpEverywhere() {
    assertWithinUlps("erf", Erf::erf, x -> true, 1.0);
  }

  @Test
  void erfcIsWithinOneUlpBelowAQuarter() {
    assertWithinUlps("erfc", Erf::erfc, x -> x < 0.25, 1.0);
  }

  /**
   * From 1/4 up, fdlibm's {@code erfc} sums terms of which the result is a small difference ({@code 0.5 - (x R +
   * (x - 0.5))}, {@code (1 - erx) - P/Q}) or multiplies two {@code exp} and divides; about 100000 points measured
   * 2.5 ulps at most (glibc's {@code erfc}, the same algorithm, 3.1). Subnormal results count their error in units of
   * the subnormal spacing.
   */
  @Test
  void erfcIsWithinThreeUlpsFromAQuarterUp() {
    assertWithinUlps("erfc", Erf::erfc, x -> x >= 0.25, 3.0);
  }

  @Test
  void theReferencePointsCoverEveryBranchOnBothSides() {
    double[] branchStarts = {0x1p-1074, 0x1p-1015, 0x1p-56, 0x1p-28, 0.25, 0.84375, 1.25, 1 / 0.35, 6, 26.55, 28};
    for (int b = 0; b < branchStarts.length; b++) {
      double lo = branchStarts[b];
      double hi = b + 1 < branchStarts.length ? branchStarts[b + 1] : Double.POSITIVE_INFINITY;
      long positive = POINTS.stream().filter(p -> p.x >= lo && p.x < hi).count();
      long negative = POINTS.stream().filter(p -> -p.x >= lo && -p.x < hi).count();
      assertThat(positive).as("points in [%s, %s)", lo, hi).isGreaterThanOrEqualTo(20);
      assertThat(negative).as("points in (-%s, -%s]", hi, lo).isEqualTo(positive);
    }
  }

  @Test
  void roundedToFloat32BothAreWithinOneUnitInTheLastPlaceOfTorchs() {
    JsonNode x = TORCH_POINTS.get("x");
    assertThat(x.size()).isGreaterThan(2000);
    for (int i = 0; i < x.size(); i++) {
      double at = x.get(i).doubleValue();
      for (String function : new String[] {"erf", "erfc"}) {
        float expected = (float) TORCH_POINTS.get(function).get(i).doubleValue();
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
    assertThat(Erf.erf(0.0)).isEqualTo(0.0);
    assertThat(Erf.erfc(0.0)).isEqualTo(1.0);
    assertThat(Erf.erfc(-0.0)).isEqualTo(1.0);
    assertThat(Erf.erf(Double.NaN)).isNaN();
    assertThat(Erf.erfc(Double.NaN)).isNaN();
  }

  @Test
  void saturatesWithoutOvershoot() {
    assertThat(Erf.erf(Double.MAX_VALUE)).isEqualTo(1.0);
    assertThat(Erf.erf(-Double.MAX_VALUE)).isEqualTo(-1.0);
    assertThat(Erf.erfc(Double.MAX_VALUE)).isEqualTo(0.0);
    assertThat(Erf.erfc(-Double.MAX_VALUE)).isEqualTo(2.0);
    for (double x = 0; x < 30; x += 0.001) {
      assertThat(Erf.erf(x)).as("erf(%s)", x).isBetween(0.0, 1.0);
      assertThat(Erf.erfc(x)).as("erfc(%s)", x).isBetween(0.0, 1.0);
      assertThat(Erf.erfc(-x)).as("erfc(%s)", -x).isBetween(1.0, 2.0);
    }
  }

  private static void assertWithinUlps(String name, DoubleUnaryOperator function, DoublePredicate where,
      double bound) {
    int checked = 0;
    double worst = 0;
    double worstAt = Double.NaN;
    for (Point p : POINTS) {
      if (!where.test(p.x)) {
        continue;
      }
      double got = function.applyAsDouble(p.x);
      assertThat(Double.isFinite(got)).as("%s(%s) = %s", name, p.x, got).isTrue();
      double ulps = ulps(got, name.equals("erf") ? p.erf : p.erfc);
      if (ulps > worst) {
        worst = ulps;
        worstAt = p.x;
      }
      checked++;
    }
    assertThat(checked).as("points checked").isGreaterThan(1000);
    assertThat(worst).as("largest error of %s, in ulps, at x = %s", name, worstAt).isLessThanOrEqualTo(bound);
  }

  /**
   * {@code |got - exact|} in units of the spacing of doubles at {@code exact}: below a power of two that spacing is
   * the one of the binade below, so the nearest double's ulp is taken from its lower neighbour there.
   */
  static double ulps(double got, BigDecimal exact) {
    double nearest = Math.abs(exact.doubleValue());
    boolean below = exact.abs().compareTo(new BigDecimal(nearest)) < 0;
    double ulp = Math.ulp(below ? Math.nextDown(nearest) : nearest);
    return new BigDecimal(got).subtract(exact).abs().divide(new BigDecimal(ulp), MathContext.DECIMAL64).doubleValue();
  }

  private record Point(double x, BigDecimal erf, BigDecimal erfc) {}

  private static List<Point> readPoints(String resource) {
    try (InputStream stream = ErfTest.class.getResourceAsStream(resource)) {
      assertThat(stream).as("test resource %s", resource).isNotNull();
      List<Point> points = new ArrayList<>();
      BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.US_ASCII));
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String[] fields = line.split("\t");
        points.add(new Point(Double.parseDouble(fields[0]), new BigDecimal(fields[1]), new BigDecimal(fields[2])));
      }
      return points;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }
}
