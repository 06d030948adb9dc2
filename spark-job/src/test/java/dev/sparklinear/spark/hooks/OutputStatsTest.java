package dev.sparklinear.spark.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

class OutputStatsTest {
  private static FloatBlock block(BufferAllocator allocator, float[][] rows) {
    return FloatBlock.copyOf(allocator, rows);
  }

  @Test
  void countsMeanMinMaxNaNAndBins() {
    // Bins of width 1 over [0, 4]: 4 lands in the last bin (numpy's closed last edge); -1 and inf are outside.
    float[][] rows = {{0.5f, 1f}, {3.5f, Float.NaN}, {4f, -1f}, {Float.POSITIVE_INFINITY, 2f}};
    OutputStats stats = new OutputStats(2, 4, 0, 4);
    try (BufferAllocator allocator = new RootAllocator(); FloatBlock b = block(allocator, rows)) {
      stats.add(b);
    }
    List<DimensionStats> value = stats.value();
    DimensionStats d0 = value.get(0);
    assertThat(d0.count()).isEqualTo(4);
    assertThat(d0.nanCount()).isZero();
    assertThat(d0.min()).isEqualTo(0.5);
    assertThat(d0.max()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(d0.bins()).containsExactly(1, 0, 0, 2);
    assertThat(d0.underflow()).isZero();
    assertThat(d0.overflow()).isEqualTo(1);
    DimensionStats d1 = value.get(1);
    assertThat(d1.count()).isEqualTo(4);
    assertThat(d1.nanCount()).isEqualTo(1);
    assertThat(d1.mean()).isCloseTo((1 - 1 + 2) / 3.0, within(1e-12));
    assertThat(d1.min()).isEqualTo(-1);
    assertThat(d1.max()).isEqualTo(2);
    assertThat(d1.bins()).containsExactly(0, 1, 1, 0);
    assertThat(d1.underflow()).isEqualTo(1);
  }

  @Test
  void mergingTwoHalvesEqualsAddingTheWhole() {
    float[][] rows = new float[5000][3];
    SplittableRandom random = new SplittableRandom(3);
    for (float[] row : rows) {
      for (int c = 0; c < 3; c++) {
        row[c] = (float) (random.nextGaussian() * 4);
      }
    }
    OutputStats whole = new OutputStats(3, 20, -10, 10);
    OutputStats first = new OutputStats(3, 20, -10, 10);
    OutputStats second = first.copy();
    try (BufferAllocator allocator = new RootAllocator();
        FloatBlock all = block(allocator, rows);
        FloatBlock a = block(allocator, java.util.Arrays.copyOfRange(rows, 0, 1234));
        FloatBlock b = block(allocator, java.util.Arrays.copyOfRange(rows, 1234, 5000))) {
      whole.add(all);
      first.add(a);
      second.add(b);
    }
    first.merge(second);
    for (int d = 0; d < 3; d++) {
      DimensionStats expected = whole.value().get(d);
      DimensionStats actual = first.value().get(d);
      assertThat(actual.count()).isEqualTo(5000);
      assertThat(actual.bins()).containsExactly(expected.bins());
      assertThat(actual.mean()).isCloseTo(expected.mean(), within(1e-9));
      assertThat(actual.min()).isEqualTo(expected.min());
      assertThat(actual.max()).isEqualTo(expected.max());
    }
    assertThat(new OutputStats(3, 20, -10, 10).isZero()).isTrue();
    assertThat(first.isZero()).isFalse();
    first.reset();
    assertThat(first.isZero()).isTrue();
  }

  @Test
  void emptyDimensionHasNoMeanMinOrMax() {
    DimensionStats d = new OutputStats(1, 2, 0, 1).value().get(0);
    assertThat(d.count()).isZero();
    assertThat(d.mean()).isNaN();
    assertThat(d.toMap()).containsEntry("mean", null).containsEntry("min", null);
  }

  @Test
  void refusesBlocksOfAnotherWidthAndBadRanges() {
    OutputStats stats = new OutputStats(2, 4, 0, 4);
    try (BufferAllocator allocator = new RootAllocator(); FloatBlock b = block(allocator, new float[][] {{1, 2, 3}})) {
      assertThatThrownBy(() -> stats.add(b))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot add a block of 3 columns to stats of 2 dimensions (out_features)");
    }
    assertThatThrownBy(() -> new OutputStats(2, 4, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid histogram range for stats: [1.0, 1.0] (min must be less than max, both finite)");
  }
}
