package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.assertClose;
import static dev.sparklinear.core.hooks.HookTesting.random;
import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class L2NormalizeTest {
  private static double[][] reference(float[][] x, double eps) {
    double[][] y = new double[x.length][];
    for (int r = 0; r < x.length; r++) {
      double norm = 0;
      for (float v : x[r]) {
        norm += (double) v * v;
      }
      norm = Math.sqrt(norm);
      y[r] = new double[x[r].length];
      for (int c = 0; c < x[r].length; c++) {
        y[r][c] = x[r][c] / Math.max(norm, eps);
      }
    }
    return y;
  }

  @Test
  void dividesEachRowByItsNorm() {
    float[][] x = random(7, 25, 5, 10);
    assertClose(run(new L2Normalize(), x), reference(x, 1e-12), 1e-7);
    assertThat(run(new L2Normalize(), new float[][] {{3f, 4f}})[0]).containsExactly(0.6f, 0.8f);
  }

  @Test
  void zeroRowStaysZeroAndSmallRowsAreDividedByEps() {
    float[][] x = {{0f, 0f, 0f}, {1e-4f, 0f, 0f}};
    float[][] y = run(new L2Normalize(1e-2), x);
    assertThat(y[0]).containsExactly(0f, 0f, 0f);
    // ||x|| = 1e-4 < eps = 1e-2: divided by eps, as torch.nn.functional.normalize does.
    assertClose(y, reference(x, 1e-2), 1e-7);
    assertThat(y[1][0]).isCloseTo(1e-2f, org.assertj.core.data.Offset.offset(1e-8f));
  }

  @Test
  void refusesNonPositiveEps() {
    assertThatThrownBy(() -> new L2Normalize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid eps for l2-normalize: 0.0 (must be > 0 and finite)");
  }
}
