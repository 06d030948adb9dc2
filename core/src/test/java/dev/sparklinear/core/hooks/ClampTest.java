package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.assertClose;
import static dev.sparklinear.core.hooks.HookTesting.map;
import static dev.sparklinear.core.hooks.HookTesting.random;
import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClampTest {
  private static final float[][] X = {{-7f, -1f, 0f, 2.5f, 9f, Float.NaN}};

  @Test
  void clampsToBothBounds() {
    assertThat(run(new Clamp(0f, 6f), X)[0]).containsExactly(0f, 0f, 0f, 2.5f, 6f, Float.NaN);
    float[][] x = random(8, 20, 4, 10);
    assertClose(run(new Clamp(-1f, 2f), x), map(x, v -> Math.min(2, Math.max(-1, v))), 0);
  }

  @Test
  void clampsWithOnlyMin() {
    assertThat(run(Clamp.atLeast(-1f), X)[0]).containsExactly(-1f, -1f, 0f, 2.5f, 9f, Float.NaN);
  }

  @Test
  void clampsWithOnlyMax() {
    assertThat(run(Clamp.atMost(1f), X)[0]).containsExactly(-7f, -1f, 0f, 1f, 1f, Float.NaN);
  }

  @Test
  void refusesBadBounds() {
    assertThatThrownBy(() -> new Clamp(null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("clamp needs at least one of min and max");
    assertThatThrownBy(() -> new Clamp(6f, 0f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid bounds for clamp: min=6.0 is greater than max=0.0; swap them");
  }

  @Test
  void showsItsBounds() {
    assertThat(Clamp.atLeast(0f)).hasToString("Clamp(min=0.0, max=null)");
  }
}
