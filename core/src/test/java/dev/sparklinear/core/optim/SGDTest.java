package dev.sparklinear.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.nn.Linear;
import org.junit.jupiter.api.Test;

/** SGD's checks, worded as torch's; its arithmetic is pinned by {@link TorchOptimizerParityTest}. */
class SGDTest {

  @Test
  void rejectsBadHyperParametersWithTorchsMessages() {
    Linear fc = new Linear(2, 1);
    assertThatThrownBy(() -> new SGD(fc, SGD.options(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid learning rate: -1.0");
    assertThatThrownBy(() -> new SGD(fc, SGD.options(0.1).momentum(-0.5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid momentum value: -0.5");
    assertThatThrownBy(() -> new SGD(fc, SGD.options(0.1).weightDecay(-1e-3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid weight_decay value: -0.001");
  }

  @Test
  void nesterovNeedsMomentumAndNoDampening() {
    Linear fc = new Linear(2, 1);
    assertThatThrownBy(() -> new SGD(fc, SGD.options(0.1).nesterov(true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Nesterov momentum requires a momentum and zero dampening");
    assertThatThrownBy(() -> new SGD(fc, SGD.options(0.1).momentum(0.9).dampening(0.1).nesterov(true)))
        .hasMessage("Nesterov momentum requires a momentum and zero dampening");
    assertThat(new SGD(fc, SGD.options(0.1).momentum(0.9).nesterov(true))).isNotNull();
  }

  @Test
  void stateHasNoMomentumBufferWithoutMomentum() {
    Linear fc = new Linear(2, 1);
    fc.weight().setGrad(fc.weight());
    SGD sgd = new SGD(fc, SGD.options(0.1));
    sgd.step();
    assertThat(sgd.stateDict().state()).containsOnlyKeys(0);
    assertThat(sgd.stateDict().state().get(0)).isEmpty();
  }
}
