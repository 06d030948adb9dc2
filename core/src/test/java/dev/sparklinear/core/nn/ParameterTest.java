package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ParameterTest {

  @Test
  void requiresGradByDefaultAsInPyTorch() {
    assertThat(new Parameter(Tensor.of(1f)).requiresGrad()).isTrue();
    assertThat(new Parameter(Tensor.of(1f), false).requiresGrad()).isFalse();
  }

  @Test
  void holdsTheTensorsValuesAndShape() {
    Tensor t = Tensor.of(new float[][] {{1, 2}, {3, 4}});
    Parameter p = new Parameter(t);
    assertThat(p.shape()).containsExactly(2, 2);
    assertThat(p.toArray()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void equalityIncludesRequiresGrad() {
    assertThat(new Parameter(Tensor.of(1f))).isEqualTo(new Parameter(Tensor.of(1f)));
    assertThat(new Parameter(Tensor.of(1f), true)).isNotEqualTo(new Parameter(Tensor.of(1f), false));
    assertThat(new Parameter(Tensor.of(1f))).isNotEqualTo(new Parameter(Tensor.of(2f)));
  }

  @Test
  void toStringReadsLikePyTorch() {
    assertThat(new Parameter(Tensor.of(1f, 2f))).hasToString("Parameter containing: tensor([1.0, 2.0], shape=[2])");
  }
}
