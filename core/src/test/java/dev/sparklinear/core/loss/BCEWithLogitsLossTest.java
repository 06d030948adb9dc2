package dev.sparklinear.core.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.junit.jupiter.api.Test;

class BCEWithLogitsLossTest {

  @Test
  void hugeLogitsGiveFiniteLossesAndGradients() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1000, -1000, 3e38f, -3e38f}});
        FloatBlock wrong = FloatBlock.copyOf(allocator, new float[][] {{0, 1, 0, 1}});
        FloatBlock right = FloatBlock.copyOf(allocator, new float[][] {{1, 0, 1, 0}})) {
      BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.SUM, null, null);
      // a wrong label costs log(1 + e^|x|) = |x| (in double), a right one log(1 + e^-|x|) = 0
      assertThat(loss.forward(x, wrong)).isCloseTo(2000 + 2 * (double) 3e38f, within(1e24));
      assertThat(loss.forward(x, right)).isEqualTo(0.0);
      try (FloatBlock g = loss.backward(x, wrong)) {
        assertThat(g.toArray()).containsExactly(1, -1, 1, -1);
      }
      try (FloatBlock g = loss.backward(x, right)) {
        assertThat(g.toArray()).containsExactly(0, 0, 0, 0);
      }
    }
  }

  @Test
  void posWeightScalesThePositiveTermPerColumn() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{0, 0}});
        FloatBlock y = FloatBlock.copyOf(allocator, new float[][] {{1, 1}})) {
      BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.SUM, null, new float[] {3, 1});
      assertThat(loss.forward(x, y)).isCloseTo(4 * Math.log(2), within(1e-15));
      try (FloatBlock g = loss.backward(x, y)) {
        assertThat(g.toArray()).containsExactly(-1.5f, -0.5f); // p_c (sigmoid(0) - 1)
      }
    }
  }

  @Test
  void rejectsATargetOfAnotherSizeWithTorchsMessage() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4);
        FloatBlock y = FloatBlock.allocate(allocator, 2, 4)) {
      assertThatThrownBy(() -> new BCEWithLogitsLoss().forward(x, y))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Target size ([2, 4]) must be the same as input size ([3, 4])");
    }
  }

  @Test
  void rejectsPosWeightOfAnotherWidth() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4);
        FloatBlock y = FloatBlock.allocate(allocator, 3, 4)) {
      assertThatThrownBy(() -> new BCEWithLogitsLoss(Reduction.MEAN, null, new float[3]).forward(x, y))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("pos_weight of shape [3] does not match the output's 4 columns: give one value per column");
    }
  }
}
