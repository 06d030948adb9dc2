package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.float32ErrorBound;
import static dev.sparklinear.core.testing.ReferenceAffine.forward;
import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static dev.sparklinear.core.testing.ReferenceAffine.randomVector;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A kernel with an {@link Epilogue} against the same kernel without one followed by the function, bit for bit, and
 * {@link Epilogue#RELU} against relu of the double-precision reference, for both kernels on every path (narrow in
 * place and copied, general with whole and partial panels, rows across tiles).
 */
class EpilogueTest {
  private static final int[][] SHAPES = {{4, 3}, {64, 16}, {17, 5}, {64, 256}, {33, 200}, {256, 16}, {3, 100}};
  private static final int[] ROW_COUNTS = {1, 7, 9, 1031};

  static Stream<Arguments> kernelsAndShapes() {
    Stream.Builder<Arguments> cases = Stream.builder();
    for (LinearKernels.Choice choice : new LinearKernels.Choice[] {LinearKernels.Choice.SCALAR, LinearKernels.Choice.VECTOR}) {
      for (int[] shape : SHAPES) {
        for (int rows : ROW_COUNTS) {
          cases.add(Arguments.of(choice, shape[0], shape[1], rows));
        }
      }
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0} {1}->{2}, {3} rows")
  @MethodSource("kernelsAndShapes")
  void reluEpilogueGivesTheBitsOfReluAfterTheKernel(LinearKernels.Choice choice, int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(31L * in + out + rows);
    float[][] x = randomMatrix(random, rows, in, 2);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] b = randomVector(random, out, 0.5);
    // Values a ReLU treats specially: NaN in, -0.0 out (a zero weight row, bias -0.0, negative inputs), infinities.
    x[0][0] = Float.NaN;
    if (rows > 2) {
      x[1][0] = Float.POSITIVE_INFINITY;
      java.util.Arrays.fill(x[2], -1f);
    }
    java.util.Arrays.fill(w[0], 0f);
    b[0] = -0f;
    LinearKernel kernel = LinearKernels.create(Tensor.of(w), Tensor.of(b), choice);
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock xb = FloatBlock.copyOf(allocator, x);
        FloatBlock plain = FloatBlock.allocate(allocator, rows, out);
        FloatBlock fused = FloatBlock.allocate(allocator, rows, out)) {
      kernel.apply(xb, plain);
      kernel.apply(xb, fused, Epilogue.RELU);
      float[] expected = plain.toArray();
      for (int i = 0; i < expected.length; i++) {
        expected[i] = expected[i] < 0 ? 0f : expected[i];
      }
      assertThat(bits(fused.toArray())).isEqualTo(bits(expected));
      if (rows > 2) {
        assertThat(Float.floatToRawIntBits(fused.get(2, 0))).as("-0.0 passes unchanged")
            .isEqualTo(Float.floatToRawIntBits(plain.get(2, 0)));
      }

      // And against relu of the double reference: relu moves no value further from it than the bound allows.
      double[][] reference = forward(x, w, b);
      double[][] bound = float32ErrorBound(x, w, b);
      float[][] actual = fused.toRows();
      for (int r = 3; r < rows; r++) {
        for (int o = 0; o < out; o++) {
          double relu = Math.max(0, reference[r][o]);
          assertThat(Math.abs(actual[r][o] - relu)).as("row %d, output %d", r, o).isLessThanOrEqualTo(2 * bound[r][o]);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}->{2}, {3} rows")
  @MethodSource("kernelsAndShapes")
  void anyEpilogueSeesTheValuesTheKernelWouldStore(LinearKernels.Choice choice, int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(17L * in + out + rows);
    float[][] x = randomMatrix(random, rows, in, 2);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    LinearKernel kernel = LinearKernels.create(Tensor.of(w), null, choice);
    Epilogue cube = (values, from, to) -> {
      for (int i = from; i < to; i++) {
        values[i] = values[i] * values[i] * values[i];
      }
    };
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock xb = FloatBlock.copyOf(allocator, x);
        FloatBlock plain = FloatBlock.allocate(allocator, rows, out);
        FloatBlock fused = FloatBlock.allocate(allocator, rows, out)) {
      kernel.apply(xb, plain);
      kernel.apply(xb, fused, cube);
      float[] expected = plain.toArray();
      cube.apply(expected, 0, expected.length);
      assertThat(bits(fused.toArray())).isEqualTo(bits(expected));
    }
  }

  @Test
  void reluKeepsNanAndNegativeZero() {
    float[] values = {-1f, -0f, 0f, 2f, Float.NaN, Float.NEGATIVE_INFINITY, -Float.MIN_VALUE};
    Epilogue.RELU.apply(values, 0, values.length);
    int[] raw = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      raw[i] = Float.floatToRawIntBits(values[i]);
    }
    assertThat(raw).containsExactly(0, 0x80000000, 0, Float.floatToRawIntBits(2f), Float.floatToRawIntBits(Float.NaN), 0,
        0);
  }

  /**
   * The bits of each value, every NaN as the canonical one: Java leaves the sign and payload of a NaN made by
   * arithmetic unspecified, so a NaN is all that is checked.
   */
  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToIntBits(values[i]);
    }
    return bits;
  }
}
