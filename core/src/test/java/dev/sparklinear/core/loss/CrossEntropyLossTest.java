package dev.sparklinear.core.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.junit.jupiter.api.Test;

class CrossEntropyLossTest {

  @Test
  void equalLogitsCostLogOfTheClassCount() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1e30f, 1e30f, 1e30f, 1e30f}, {0, 0, 0, 0}})) {
      assertThat(new CrossEntropyLoss().forward(x, new long[] {2, 0})).isCloseTo(Math.log(4), within(1e-15));
      try (FloatBlock g = new CrossEntropyLoss(Reduction.SUM).backward(x, new long[] {2, 0})) {
        assertThat(g.toArray()).containsExactly(0.25f, 0.25f, -0.75f, 0.25f, -0.75f, 0.25f, 0.25f, 0.25f);
      }
    }
  }

  @Test
  void meanIsOverRowsNotIgnoredWeightedByTheirTargetsClassWeight() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 2)) {
      CrossEntropyLoss loss = new CrossEntropyLoss(Reduction.MEAN, new float[] {1, 3}, -100, 0);
      assertThat(loss.sum(x, new long[] {1, -100, 0})).isEqualTo(new LossSum(4 * Math.log(2), 4));
      assertThat(loss.forward(x, new long[] {1, -100, 0})).isCloseTo(Math.log(2), within(1e-15));
      try (FloatBlock g = loss.backward(x, new long[] {1, -100, 0})) {
        assertThat(g.row(1)).as("an ignored row").containsExactly(0, 0);
      }
    }
  }

  @Test
  void onlyIgnoredRowsAverageToNaNAsInTorch() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 2, 3)) {
      assertThat(new CrossEntropyLoss().forward(x, new long[] {-100, -100})).isNaN();
    }
  }

  @Test
  void rejectsATargetOutOfRangeWithTorchsMessage() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4)) {
      assertThatThrownBy(() -> new CrossEntropyLoss().forward(x, new long[] {0, 4, 1}))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Target 4 is out of bounds.");
      assertThatThrownBy(() -> new CrossEntropyLoss().forward(x, new long[] {0, -1, 1}))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Target -1 is out of bounds.");
    }
  }

  @Test
  void rejectsATargetOfAnotherLengthWithTorchsMessage() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4)) {
      assertThatThrownBy(() -> new CrossEntropyLoss().forward(x, new long[] {0, 1}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Expected input batch_size (3) to match target batch_size (2).");
    }
  }

  @Test
  void rejectsClassWeightsOfAnotherCountWithTorchsMessage() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 3, 4)) {
      assertThatThrownBy(() -> new CrossEntropyLoss(Reduction.MEAN, new float[3], -100, 0).forward(x, new long[3]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("weight tensor should be defined either for all 4 classes or no classes but got weight tensor"
              + " of shape: [3]");
    }
  }

  @Test
  void rejectsLabelSmoothingOutsideTheUnitIntervalWithTorchsMessage() {
    assertThatThrownBy(() -> new CrossEntropyLoss(Reduction.MEAN, null, -100, 1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("label_smoothing must be between 0.0 and 1.0. Got: 1.5");
  }
}
