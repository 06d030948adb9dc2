package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.assertWithinFloat32Bound;
import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static dev.sparklinear.core.testing.ReferenceAffine.randomVector;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both kernels (the portable one and the Vector API one) against the same double-precision reference. Results are checked within the float32 error bound of
 * {@link dev.sparklinear.core.testing.ReferenceAffine}: {@code gamma(in + 1) * (sum_k |x_k w_k| + |b|)}, which for the
 * widest layer here (256 inputs) is about 1.5e-5 of the sum of absolute terms.
 */
class BlockedLinearKernelTest {
  /** Row counts around the 4-row micro-kernel (0, 1, 3, 4, 5) and one large odd count that spans several tiles. */
  private static final int[] ROW_COUNTS = {0, 1, 3, 4, 5, 1031};
  private static final LinearKernels.Choice[] KERNELS = {LinearKernels.Choice.SCALAR, LinearKernels.Choice.VECTOR};

  private LeakCheckingAllocator allocator;

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void closeAllocator() {
    assertThat(allocator.getAllocatedMemory()).as("bytes left allocated by the test").isZero();
    allocator.close();
  }

  static Stream<Arguments> shapes() {
    Stream.Builder<Arguments> cases = Stream.builder();
    int[][] shapes = {{1, 1}, {4, 3}, {7, 5}, {64, 16}, {33, 17}, {256, 256}};
    for (LinearKernels.Choice kernel : KERNELS) {
      for (int[] shape : shapes) {
        for (boolean bias : new boolean[] {true, false}) {
          for (int rows : ROW_COUNTS) {
            cases.add(Arguments.of(kernel, shape[0], shape[1], bias, rows));
          }
        }
      }
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0}: {1} -> {2}, bias={3}, {4} rows")
  @MethodSource("shapes")
  void matchesDoublePrecisionReference(LinearKernels.Choice choice, int in, int out, boolean withBias, int rows) {
    SplittableRandom random = new SplittableRandom(31L * in + 7L * out + rows + (withBias ? 1 : 0));
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = withBias ? randomVector(random, out, 1 / Math.sqrt(in)) : null;
    float[][] x = randomMatrix(random, rows, in, 3);

    LinearKernel kernel = LinearKernels.create(Tensor.of(weight), bias == null ? null : Tensor.of(bias), choice);
    assertThat(kernel.name()).isEqualTo(choice.name().toLowerCase(java.util.Locale.ROOT));
    assertThat(kernel.inFeatures()).isEqualTo(in);
    assertThat(kernel.outFeatures()).isEqualTo(out);

    try (FloatBlock input = copy(x, rows, in);
        FloatBlock output = FloatBlock.allocateUninitialized(allocator, rows, out)) {
      kernel.apply(input, output);
      assertWithinFloat32Bound(output.toRows(), x, weight, bias, 1.0);
    }
  }

  @ParameterizedTest
  @EnumSource(value = LinearKernels.Choice.class, names = {"SCALAR", "VECTOR"})
  void overwritesEveryOutputValue(LinearKernels.Choice choice) {
    float[][] weight = {{1, 0}, {0, 1}, {1, 1}};
    float[][] x = {{2, 3}, {5, 7}, {-1, 1}, {0, 0}, {4, -4}};
    LinearKernel kernel = LinearKernels.create(Tensor.of(weight), null, choice);
    try (FloatBlock input = FloatBlock.copyOf(allocator, x);
        FloatBlock output = FloatBlock.allocate(allocator, 5, 3)) {
      float[] garbage = new float[15];
      java.util.Arrays.fill(garbage, Float.NaN);
      output.writeRows(0, 5, garbage, 0);

      kernel.apply(input, output);

      assertThat(output.toRows())
          .isDeepEqualTo(new float[][] {{2, 3, 5}, {5, 7, 12}, {-1, 1, 0}, {0, 0, 0}, {4, -4, 0}});
    }
  }

  @ParameterizedTest
  @EnumSource(value = LinearKernels.Choice.class, names = {"SCALAR", "VECTOR"})
  void addsBiasToEveryRow(LinearKernels.Choice choice) {
    float[][] weight = {{0, 0}, {0, 0}};
    float[] bias = {1.5f, -2.5f};
    LinearKernel kernel = LinearKernels.create(Tensor.of(weight), Tensor.of(bias), choice);
    try (FloatBlock input = FloatBlock.copyOf(allocator, new float[][] {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}});
        FloatBlock output = FloatBlock.allocate(allocator, 5, 2)) {
      kernel.apply(input, output);
      for (int r = 0; r < 5; r++) {
        assertThat(output.row(r)).as("row %d", r).containsExactly(1.5f, -2.5f);
      }
    }
  }

  private FloatBlock copy(float[][] x, int rows, int cols) {
    float[] flat = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x[r], 0, flat, r * cols, cols);
    }
    return FloatBlock.copyOf(allocator, flat, rows, cols);
  }
}
