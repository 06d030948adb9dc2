package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.assertClose;
import static dev.sparklinear.core.hooks.HookTesting.random;
import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.hooks.BlockHook.Target;
import org.junit.jupiter.api.Test;

class StandardizeTest {
  private static final float[] MEAN = {1f, -2f, 0.5f};
  private static final float[] STD = {2f, 0.25f, 3f};

  @Test
  void subtractsMeanAndDividesByStdPerColumn() {
    float[][] x = random(9, 30, 3, 5);
    double[][] expected = new double[x.length][3];
    for (int r = 0; r < x.length; r++) {
      for (int c = 0; c < 3; c++) {
        expected[r][c] = ((double) x[r][c] - MEAN[c]) / STD[c];
      }
    }
    assertClose(run(new Standardize(MEAN, STD), x, Target.INPUTS), expected, 1e-6);
    assertThat(run(new Standardize(MEAN, STD), new float[][] {{3f, -1f, 6.5f}})[0]).containsExactly(1f, 4f, 2f);
  }

  @Test
  void refusesStdOfZero() {
    assertThatThrownBy(() -> new Standardize(MEAN, new float[] {1f, 0f, 1f}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid standardize std[1]: 0 (dividing by it gives infinities); a column with std 0 is"
            + " constant: use std 1 for it, or drop the column");
  }

  @Test
  void refusesVectorsOfDifferentLengths() {
    assertThatThrownBy(() -> new Standardize(MEAN, new float[] {1f, 1f}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid standardize vectors: mean has 3 values and std has 2 (must be the same, and not 0)");
  }

  @Test
  void refusesBlockOfAnotherWidthNamingBothNumbers() {
    assertThatThrownBy(() -> run(new Standardize(MEAN, STD), new float[][] {{1f, 2f, 3f, 4f}}, Target.INPUTS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("standardize has mean and std of 3 values, but the module's inputs have 4 columns"
            + " (in_features = 4); give one value per column");
  }

  @Test
  void keepsItsOwnCopies() {
    float[] mean = MEAN.clone();
    Standardize hook = new Standardize(mean, STD);
    mean[0] = 100f;
    assertThat(hook.mean()).containsExactly(MEAN);
  }
}
