package dev.sparklinear.core.nn;

import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link GradientSums}: a tape made with them adds every parameter's gradient there in float64 and leaves
 * {@code .grad} alone; one block's sum is the float64 value that {@code .grad} holds rounded; and the same rows in
 * other blocks give the same sums but for the order of float64 additions.
 */
class GradientSumsTest {
  private static final SplittableRandom RANDOM = new SplittableRandom(20261130L);
  private static final float[][] X = randomMatrix(RANDOM, 37, 6, 2);
  private static final float[][] G = randomMatrix(RANDOM, 37, 3, 1);

  /** Linear, LayerNorm, activation, Linear: parameters of both kinds of backward. */
  private static Module tree() {
    return new Sequential(new Linear(6, 5, true, 1L), new LayerNorm(5), new Tanh(), new Linear(5, 3, true, 2L));
  }

  /** One backward pass of rows {@code from .. to} of X with upstream gradient G, on {@code sums} or on {@code .grad}. */
  private static void backward(Module tree, int from, int to, GradientSums sums) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, Arrays.copyOfRange(X, from, to));
        FloatBlock g = FloatBlock.copyOf(allocator, Arrays.copyOfRange(G, from, to));
        GradientTape tape = sums == null ? new GradientTape(allocator) : new GradientTape(allocator, sums);
        FloatBlock y = tree.call(x, CallContext.of(x).withTape(tape))) {
      tape.backward(y, g);
    }
  }

  @Test
  void aTapeWithSumsAddsThereAndLeavesGradAlone() {
    Module tree = tree();
    GradientSums sums = new GradientSums();
    backward(tree, 0, X.length, sums);
    for (Map.Entry<String, Parameter> e : tree.namedParameters().entrySet()) {
      assertThat(e.getValue().grad()).as(e.getKey()).isNull();
      assertThat(sums.sum(e.getValue())).as(e.getKey()).hasSize(e.getValue().numel());
    }
  }

  @Test
  void oneBlocksSumRoundedIsWhatGradHolds() {
    Module summed = tree();
    GradientSums sums = new GradientSums();
    backward(summed, 0, X.length, sums);
    Module plain = tree();
    backward(plain, 0, X.length, null);
    plain.namedParameters().forEach((name, p) -> {
      double[] sum = sums.sum(summed.namedParameters().get(name));
      float[] rounded = new float[sum.length];
      for (int i = 0; i < sum.length; i++) {
        rounded[i] = (float) sum[i];
      }
      assertThat(p.grad().toArray()).as(name).containsExactly(rounded);
    });
  }

  @Test
  void theSameRowsInOtherBlocksGiveTheSameSumsToFloat64Rounding() {
    Module tree = tree();
    GradientSums whole = new GradientSums();
    backward(tree, 0, X.length, whole);
    GradientSums split = new GradientSums();
    for (int[] block : new int[][] {{0, 1}, {1, 8}, {8, 20}, {20, X.length}}) {
      backward(tree, block[0], block[1], split);
    }
    tree.namedParameters().forEach((name, p) -> {
      double[] expected = whole.sum(p);
      double[] actual = split.sum(p);
      double scale = Arrays.stream(expected).map(Math::abs).max().orElse(0);
      for (int i = 0; i < expected.length; i++) {
        assertThat(actual[i]).as("%s[%d]", name, i).isCloseTo(expected[i], within(1e-13 * scale));
      }
    });
  }

  @Test
  void aFrozenParameterGetsNoSum() {
    Module tree = tree();
    Parameter frozen = tree.namedParameters().get("0.weight").setRequiresGrad(false);
    GradientSums sums = new GradientSums();
    backward(tree, 0, X.length, sums);
    assertThat(sums.sum(frozen)).isNull();
    assertThat(sums.sum(tree.namedParameters().get("0.bias"))).isNotNull();
  }
}
