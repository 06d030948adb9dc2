package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.assertClose;
import static dev.sparklinear.core.hooks.HookTesting.map;
import static dev.sparklinear.core.hooks.HookTesting.random;
import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.hooks.BlockHook.Target;
import org.junit.jupiter.api.Test;

/** {@link Relu}, {@link Sigmoid} and {@link Tanh} against {@link Math} in double precision. */
class ActivationHooksTest {
  private static final float[][] SPECIAL = {
      {-3f, -0.5f, 0f, 0.5f, 3f},
      {-100f, 100f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}};

  @Test
  void reluZeroesNegativesAndKeepsNaN() {
    float[][] y = run(new Relu(), SPECIAL);
    assertThat(y[0]).containsExactly(0f, 0f, 0f, 0.5f, 3f);
    assertThat(y[1]).containsExactly(0f, 100f, Float.NaN, 0f, Float.POSITIVE_INFINITY);
  }

  @Test
  void reluMatchesReferenceOnRandomBlock() {
    float[][] x = random(1, 50, 9, 5);
    assertClose(run(new Relu(), x), map(x, v -> v > 0 ? v : 0), 0);
  }

  @Test
  void sigmoidMatchesReference() {
    float[][] x = random(2, 40, 7, 20);
    assertClose(run(new Sigmoid(), x), map(x, v -> 1 / (1 + Math.exp(-v))), 1e-7);
    float[][] y = run(new Sigmoid(), SPECIAL);
    // sigmoid(-100) = 3.7e-44 is a subnormal float, as in torch.sigmoid on float32, not 0.
    assertThat(y[1]).containsExactly((float) (1 / (1 + Math.exp(100))), 1f, Float.NaN, 0f, 1f);
    assertThat(y[1][0]).isPositive();
    assertThat(y[0][2]).isEqualTo(0.5f);
  }

  @Test
  void tanhMatchesReference() {
    float[][] x = random(3, 40, 7, 4);
    assertClose(run(new Tanh(), x), map(x, Math::tanh), 1e-7);
    float[][] y = run(new Tanh(), SPECIAL);
    assertThat(y[1]).containsExactly(-1f, 1f, Float.NaN, -1f, 1f);
  }

  @Test
  void activationsWorkOnInputsToo() {
    float[][] x = random(4, 10, 3, 2);
    assertClose(run(new Tanh(), x, Target.INPUTS), map(x, Math::tanh), 1e-7);
  }

  @Test
  void showsItsName() {
    assertThat(new Relu()).hasToString("Relu()");
    assertThat(new Sigmoid()).hasToString("Sigmoid()");
    assertThat(new Tanh()).hasToString("Tanh()");
    assertThat(new Softmax()).hasToString("Softmax(dim=1)");
  }
}
