package dev.sparklinear.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Adam's and AdamW's checks and defaults, as torch's; their arithmetic is pinned by the parity test. */
class AdamTest {

  @Test
  void rejectsBadHyperParametersWithTorchsMessages() {
    Linear fc = new Linear(2, 1);
    assertThatThrownBy(() -> new Adam(fc, Adam.options().lr(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid learning rate: -1.0");
    assertThatThrownBy(() -> new Adam(fc, Adam.options().eps(-1e-8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid epsilon value: -1.0E-8");
    assertThatThrownBy(() -> new AdamW(fc, AdamW.options().betas(1.0, 0.999)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid beta parameter at index 0: 1.0");
    assertThatThrownBy(() -> new Adam(fc, Adam.options().betas(0.9, -0.1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid beta parameter at index 1: -0.1");
    assertThatThrownBy(() -> new AdamW(fc, AdamW.options().weightDecay(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("Invalid weight_decay value: -1.0");
  }

  @Test
  void defaultsAreTorchs() {
    Linear fc = new Linear(2, 1);
    assertThat(new Adam(fc).stateDict().paramGroups().get(0))
        .containsEntry("lr", 1e-3).containsEntry("eps", 1e-8).containsEntry("weight_decay", 0.0)
        .containsEntry("amsgrad", false);
    assertThat(new AdamW(fc).stateDict().paramGroups().get(0)).containsEntry("weight_decay", 1e-2);
  }

  @Test
  void amsgradKeepsTheMaximumOfTheSecondMoment() {
    Linear fc = new Linear(1, 1, false, 1L);
    Adam adam = new Adam(fc, Adam.options().amsgrad(true));
    fc.weight().setGrad(Tensor.of(new float[][] {{10}}));
    adam.step();
    Tensor firstSecondMoment = adam.stateDict().state().get(0).get("exp_avg_sq"); // 0.001 * 100
    assertThat(firstSecondMoment.get(0)).isCloseTo(0.1f, within(1e-7f));
    fc.weight().setGrad(Tensor.of(new float[][] {{0}}));
    adam.step();
    Map<String, Tensor> state = adam.stateDict().state().get(0);
    assertThat(state.get("exp_avg_sq").get(0)).as("0.999 of the first").isLessThan(firstSecondMoment.get(0));
    assertThat(state.get("max_exp_avg_sq")).isEqualTo(firstSecondMoment);
  }
}
