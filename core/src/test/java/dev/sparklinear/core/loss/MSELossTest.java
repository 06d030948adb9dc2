package dev.sparklinear.core.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.junit.jupiter.api.Test;

class MSELossTest {

  @Test
  void meanIsOverAllElementsAndSumIsTheSum() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, 2}, {3, 4}, {5, 6}});
        FloatBlock y = FloatBlock.copyOf(allocator, new float[][] {{0, 2}, {3, 2}, {5, 9}})) {
      // squared differences 1, 0, 0, 4, 0, 9
      assertThat(new MSELoss().forward(x, y)).isEqualTo(14.0 / 6);
      assertThat(new MSELoss(Reduction.SUM).forward(x, y)).isEqualTo(14.0);
      assertThat(new MSELoss().sum(x, y)).isEqualTo(new LossSum(14, 6));
      try (FloatBlock mean = new MSELoss().backward(x, y); FloatBlock sum = new MSELoss(Reduction.SUM).backward(x, y)) {
        assertThat(sum.toArray()).containsExactly(2, 0, 0, 4, 0, -6);
        assertThat(mean.toArray()).containsExactly(
            (float) (2 / 6.0), 0, 0, (float) (4 / 6.0), 0, (float) (-6 / 6.0));
      }
    }
  }

  @Test
  void rejectsATargetOfAnotherSize() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4);
        FloatBlock y = FloatBlock.allocate(allocator, 3, 3)) {
      assertThatThrownBy(() -> new MSELoss().forward(x, y))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Target size ([3, 3]) must be the same as input size ([3, 4])");
    }
  }

  @Test
  void rejectsAGradientBlockOfAnotherSize() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4);
        FloatBlock y = FloatBlock.allocate(allocator, 3, 4);
        FloatBlock g = FloatBlock.allocate(allocator, 4, 3)) {
      assertThatThrownBy(() -> new MSELoss().sumAndGradient(x, y, 1, g))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot write the gradient of a 3x4 output into a 4x3 block");
    }
  }
}
