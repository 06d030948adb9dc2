package dev.sparklinear.core.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReductionTest {

  @Test
  void readsTorchsSpellings() {
    assertThat(Reduction.of("mean")).isEqualTo(Reduction.MEAN);
    assertThat(Reduction.of("sum")).isEqualTo(Reduction.SUM);
    assertThat(Reduction.SUM.torchName()).isEqualTo("sum");
  }

  @Test
  void rejectsAnUnknownReductionWithTorchsMessage() {
    assertThatThrownBy(() -> Reduction.of("avg"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("avg is not a valid value for reduction");
    assertThatThrownBy(() -> Reduction.of("MEAN")).hasMessage("MEAN is not a valid value for reduction");
  }

  @Test
  void saysThatNoneIsNotSupported() {
    assertThatThrownBy(() -> Reduction.of("none"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("none is not supported as a reduction here: a loss returns one value; use 'mean' or 'sum'");
  }

  @Test
  void lossSumsAddUpAndReduce() {
    LossSum total = LossSum.ZERO.plus(new LossSum(3, 2)).plus(new LossSum(5, 6));
    assertThat(total).isEqualTo(new LossSum(8, 8));
    assertThat(total.reduce(Reduction.MEAN)).isEqualTo(1.0);
    assertThat(total.reduce(Reduction.SUM)).isEqualTo(8.0);
    assertThat(LossSum.ZERO.mean()).as("torch's mean of nothing").isNaN();
  }
}
