package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backward products of a Linear layer, bit for bit: each kernel's {@code dW} is the float64 sum of the products in
 * row order added onto the sum it is given, {@code db} likewise, and {@code dX} the float64 sum over the outputs in
 * order rounded once, as plain float64 loops compute them here; the vector and scalar kernels give the same bits on
 * every path of the vector kernel (4-row and 1-row tiles of two float vectors and of one, single columns), on
 * row-major and packed weights, and across chunks of rows.
 */
class LinearGradientsTest {
  /** Row counts around the 4-row tile, and one that spans several chunks of rows for narrow layers. */
  private static final int[] ROW_COUNTS = {1, 3, 4, 5, 9, 5000};
  /**
   * {in, out}. With 16-lane float vectors (AVX-512), panels of 32 columns: single columns only (1, 5, 15), one float
   * vector of columns (16) and columns (17, 31), a panel and columns (33, 47), a panel and a float vector (48), several
   * panels (64, 100); outputs around the 4-row tile, one output (a layer such as 64 -> 1), and many outputs for
   * narrow inputs.
   */
  private static final int[][] SHAPES = {
    {1, 1}, {5, 3}, {15, 4}, {16, 5}, {17, 1}, {31, 8}, {33, 9}, {47, 6}, {48, 3}, {64, 1}, {64, 16}, {100, 13},
    {3, 100}
  };

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
    for (int[] shape : SHAPES) {
      for (int rows : ROW_COUNTS) {
        if ((long) rows * shape[0] * shape[1] <= 2_000_000L) {
          cases.add(Arguments.of(shape[0], shape[1], rows));
        }
      }
    }
    return cases.build();
  }

  private static List<GradientKernel> kernels() {
    return LinearKernels.vectorKernelAvailable()
        ? List.of(new ScalarGradientKernel(), new VectorGradientKernel())
        : List.of(new ScalarGradientKernel());
  }

  @Test
  void theVectorKernelRunsWhereTheVectorApiIsAvailable() {
    assertThat(LinearKernels.vectorKernelAvailable()).as("the test JVM has the Vector API").isTrue();
    assertThat(LinearGradients.kernelName()).isEqualTo(LinearKernels.defaultKernelName());
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void weightAndBiasGradientsAreFloat64SumsInRowOrderOntoTheSumGiven(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(31L * in + 7L * out + rows);
    float[][] g = randomMatrix(random, rows, out, 1);
    float[][] x = randomMatrix(random, rows, in, 3);
    double[] start = new double[out * in];
    for (int i = 0; i < start.length; i++) {
      start[i] = random.nextDouble(-1, 1);
    }
    double[] expected = start.clone();
    double[] expectedBias = new double[out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        expectedBias[o] += g[r][o];
        for (int i = 0; i < in; i++) {
          expected[o * in + i] += (double) g[r][o] * x[r][i];
        }
      }
    }
    try (FloatBlock gradOutput = FloatBlock.copyOf(allocator, g); FloatBlock input = FloatBlock.copyOf(allocator, x)) {
      for (GradientKernel kernel : kernels()) {
        double[] sum = start.clone();
        LinearGradients.addWeightGradient(gradOutput, input, sum, kernel);
        assertThat(sum).as(kernel.name()).containsExactly(expected);
      }
      double[] bias = new double[out];
      LinearGradients.addBiasGradient(gradOutput, bias);
      assertThat(bias).containsExactly(expectedBias);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void inputGradientIsTheFloat64SumOverOutputsRoundedOnce(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(17L * in + 5L * out + rows);
    float[][] g = randomMatrix(random, rows, out, 1);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[][] expected = new float[rows][in];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < in; i++) {
        double sum = 0;
        for (int o = 0; o < out; o++) {
          sum += (double) g[r][o] * w[o][i];
        }
        expected[r][i] = (float) sum;
      }
    }
    try (FloatBlock gradOutput = FloatBlock.copyOf(allocator, g)) {
      for (GradientKernel kernel : kernels()) {
        try (FloatBlock gradInput = FloatBlock.allocate(allocator, rows, in)) {
          LinearGradients.inputGradient(gradOutput, Tensor.of(w), gradInput, kernel);
          float[][] actual = gradInput.toRows();
          for (int r = 0; r < rows; r++) {
            assertThat(actual[r]).as("%s, row %d", kernel.name(), r).containsExactly(expected[r]);
          }
        }
      }
    }
  }

  @Test
  void refusesBlocksOfDifferentRowCountsAndSumsOfTheWrongSize() {
    try (FloatBlock gradOutput = FloatBlock.allocate(allocator, 3, 2);
        FloatBlock input = FloatBlock.allocate(allocator, 4, 5);
        FloatBlock threeRows = FloatBlock.allocate(allocator, 3, 5)) {
      assertThatThrownBy(() -> LinearGradients.addWeightGradient(gradOutput, input, new double[10]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot compute a weight gradient from 3 rows of gradient and 4 rows of input");
      assertThatThrownBy(() -> LinearGradients.addWeightGradient(gradOutput, threeRows, new double[9]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot add a weight gradient of 10 values into an array of 9");
      assertThatThrownBy(() -> LinearGradients.addBiasGradient(gradOutput, new double[3]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot add a bias gradient of 2 values into an array of 3");
      assertThatThrownBy(() -> LinearGradients.inputGradient(gradOutput, Tensor.of(new float[4][5]), threeRows))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot compute an input gradient of shape [3, 5] from a gradient of shape [3, 2] and a weight"
              + " of shape [4, 5]");
    }
  }
}
