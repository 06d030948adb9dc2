package dev.sparklinear.core.hooks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.hooks.BlockHook.Target;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

/** Runs a hook on plain arrays through an Arrow block, and compares with double-precision references. */
final class HookTesting {
  private HookTesting() {}

  /** {@code hook} applied to a copy of {@code x} as the given target; checks it returns the same block and leaks nothing. */
  static float[][] run(BlockHook hook, float[][] x, Target target) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock block = FloatBlock.copyOf(allocator, x)) {
      FloatBlock result = hook.transform(block, target, CallContext.of(block));
      assertThat(result).as("block hooks work in place").isSameAs(block);
      return result.toRows();
    }
  }

  static float[][] run(BlockHook hook, float[][] x) {
    return run(hook, x, Target.OUTPUTS);
  }

  /** Element-wise reference in double. */
  static double[][] map(float[][] x, DoubleUnaryOperator f) {
    double[][] y = new double[x.length][];
    for (int r = 0; r < x.length; r++) {
      y[r] = new double[x[r].length];
      for (int c = 0; c < x[r].length; c++) {
        y[r][c] = f.applyAsDouble(x[r][c]);
      }
    }
    return y;
  }

  /** Each value within {@code relative} of the reference (relative to max(1, |reference|)). */
  static void assertClose(float[][] actual, double[][] expected, double relative) {
    assertThat(actual).hasNumberOfRows(expected.length);
    for (int r = 0; r < expected.length; r++) {
      assertThat(actual[r]).hasSize(expected[r].length);
      for (int c = 0; c < expected[r].length; c++) {
        double tolerance = relative * Math.max(1, Math.abs(expected[r][c]));
        assertThat((double) actual[r][c]).as("[%d, %d]", r, c).isCloseTo(expected[r][c],
            org.assertj.core.data.Offset.offset(tolerance));
      }
    }
  }

  static float[][] random(long seed, int rows, int cols, double scale) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] x = new float[rows][cols];
    for (float[] row : x) {
      for (int c = 0; c < cols; c++) {
        row[c] = (float) ((random.nextDouble() * 2 - 1) * scale);
      }
    }
    return x;
  }
}
