package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.assertClose;
import static dev.sparklinear.core.hooks.HookTesting.random;
import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SoftmaxTest {
  /** exp(x_i) / sum exp(x_j) straight from the definition, in double, for moderate values. */
  private static double[][] reference(float[][] x) {
    double[][] y = new double[x.length][];
    for (int r = 0; r < x.length; r++) {
      double sum = 0;
      for (float v : x[r]) {
        sum += Math.exp(v);
      }
      y[r] = new double[x[r].length];
      for (int c = 0; c < x[r].length; c++) {
        y[r][c] = Math.exp(x[r][c]) / sum;
      }
    }
    return y;
  }

  @Test
  void matchesDefinitionAndRowsSumToOne() {
    float[][] x = random(5, 30, 6, 8);
    float[][] y = run(new Softmax(), x);
    assertClose(y, reference(x), 1e-7);
    for (float[] row : y) {
      double sum = 0;
      for (float v : row) {
        sum += v;
      }
      assertThat(sum).isCloseTo(1.0, within(1e-6));
    }
  }

  @Test
  void largeValuesDoNotOverflow() {
    // exp(1000) overflows a double: only the max-subtracted form gives the answer, which equals softmax([0, -1, -2]).
    float[][] y = run(new Softmax(), new float[][] {{1000f, 999f, 998f}, {-1000f, -1000f, -1000f}});
    double e1 = Math.exp(-1);
    double e2 = Math.exp(-2);
    double sum = 1 + e1 + e2;
    assertThat(y[0][0]).isCloseTo((float) (1 / sum), within(1e-7f));
    assertThat(y[0][1]).isCloseTo((float) (e1 / sum), within(1e-7f));
    assertThat(y[0][2]).isCloseTo((float) (e2 / sum), within(1e-7f));
    assertThat(y[1]).containsExactly(1 / 3f, 1 / 3f, 1 / 3f);
  }

  @Test
  void rowsSpanningHeapChunksAreEachNormalised() {
    // 3000 x 7 values are more than one heap chunk: rows on both sides of the chunk boundary must be right.
    float[][] x = random(6, 3000, 7, 3);
    assertClose(run(new Softmax(), x), reference(x), 1e-7);
  }

  @Test
  void nanInARowMakesTheRowNaN() {
    float[][] y = run(new Softmax(), new float[][] {{1f, Float.NaN, 2f}, {0f, 0f, 0f}});
    assertThat(y[0]).containsOnly(Float.NaN);
    assertThat(y[1]).containsExactly(1 / 3f, 1 / 3f, 1 / 3f);
  }
}
