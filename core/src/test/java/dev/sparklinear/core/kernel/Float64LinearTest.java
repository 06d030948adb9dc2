package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A Linear layer's float64 products, bit for bit: {@code y} is each value's fused multiply-adds over the inputs in
 * order, then the bias; {@code dW} the fused multiply-adds of the products in row order onto the sum it is given;
 * {@code db} the sum in row order; {@code dX} the fused multiply-adds over the outputs in order; as plain float64
 * loops compute them here. The vector and scalar kernels give the same bits on every path of the vector kernel (4-row
 * and 1-row tiles of four vectors and of two, single columns), on row-major and packed factors, and across chunks of
 * rows.
 */
class Float64LinearTest {
  /** Row counts around the 4-row tile, and one that spans several chunks of rows for narrow layers. */
  private static final int[] ROW_COUNTS = {1, 3, 4, 5, 9, 5000};
  /**
   * {in, out}. With 8-lane float64 vectors (AVX-512), panels of 32 columns and pairs of 16: single columns only (1,
   * 5, 15), a pair (16) and columns (17, 31), a panel and columns (33, 47), a panel and a pair (48), several panels
   * (64, 100); outputs around the 4-row tile, one output (a layer such as 64 -> 1), and many outputs for narrow inputs.
   */
  private static final int[][] SHAPES = {
    {1, 1}, {5, 3}, {15, 4}, {16, 5}, {17, 1}, {31, 8}, {33, 9}, {47, 6}, {48, 3}, {64, 1}, {64, 16}, {100, 13},
    {3, 100}
  };

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

  private static List<Float64Kernel> kernels() {
    return LinearKernels.vectorKernelAvailable()
        ? List.of(new ScalarFloat64Kernel(), new VectorFloat64Kernel())
        : List.of(new ScalarFloat64Kernel());
  }

  /** {@code rows x cols} values uniform in {@code [-scale, scale)}, most of them not float32 values. */
  private static double[] randomDoubles(SplittableRandom random, int rows, int cols, double scale) {
    double[] values = new double[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextDouble() * 2 - 1) * scale;
    }
    return values;
  }

  @Test
  void theVectorKernelRunsWhereTheVectorApiIsAvailable() {
    assertThat(LinearKernels.vectorKernelAvailable()).as("the test JVM has the Vector API").isTrue();
    assertThat(Float64Linear.kernelName()).isEqualTo(LinearKernels.defaultKernelName());
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void forwardIsFusedSumsOverInputsInOrderThenTheBias(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(13L * in + 3L * out + rows);
    double[] x = randomDoubles(random, rows, in, 3);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] b = randomMatrix(random, 1, out, 1)[0];
    double[] expected = new double[rows * out];
    double[] expectedNoBias = new double[rows * out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        double sum = 0;
        for (int i = 0; i < in; i++) {
          sum = Math.fma(x[r * in + i], w[o][i], sum);
        }
        expectedNoBias[r * out + o] = sum;
        expected[r * out + o] = sum + b[o];
      }
    }
    for (Float64Kernel kernel : kernels()) {
      assertThat(Float64Linear.forward(x, rows, Tensor.of(w), Tensor.wrap(b, out), kernel))
          .as(kernel.name()).isEqualTo(expected);
      assertThat(Float64Linear.forward(x, rows, Tensor.of(w), null, kernel))
          .as(kernel.name() + ", no bias").isEqualTo(expectedNoBias);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void weightAndBiasGradientsAreFusedSumsInRowOrderOntoTheSumGiven(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(31L * in + 7L * out + rows);
    double[] g = randomDoubles(random, rows, out, 1);
    double[] x = randomDoubles(random, rows, in, 3);
    double[] start = randomDoubles(random, out, in, 1);
    double[] expected = start.clone();
    double[] expectedBias = new double[out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        expectedBias[o] += g[r * out + o];
        for (int i = 0; i < in; i++) {
          expected[o * in + i] = Math.fma(g[r * out + o], x[r * in + i], expected[o * in + i]);
        }
      }
    }
    for (Float64Kernel kernel : kernels()) {
      double[] sum = start.clone();
      Float64Linear.addWeightGradient(g, x, rows, out, in, sum, kernel);
      assertThat(sum).as(kernel.name()).isEqualTo(expected);
    }
    double[] bias = new double[out];
    Float64Linear.addBiasGradient(g, rows, out, bias);
    assertThat(bias).isEqualTo(expectedBias);
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void inputGradientIsFusedSumsOverOutputsInOrder(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(17L * in + 5L * out + rows);
    double[] g = randomDoubles(random, rows, out, 1);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    double[] expected = new double[rows * in];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < in; i++) {
        double sum = 0;
        for (int o = 0; o < out; o++) {
          sum = Math.fma(g[r * out + o], w[o][i], sum);
        }
        expected[r * in + i] = sum;
      }
    }
    for (Float64Kernel kernel : kernels()) {
      assertThat(Float64Linear.inputGradient(g, rows, Tensor.of(w), kernel)).as(kernel.name())
          .isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} rows")
  @MethodSource("shapes")
  void float32InputsGiveTheBitsOfTheirFloat64Values(int in, int out, int rows) {
    SplittableRandom random = new SplittableRandom(41L * in + 11L * out + rows);
    float[] x = randomMatrix(random, 1, rows * in, 3)[0];
    double[] wide = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      wide[i] = x[i];
    }
    double[] g = randomDoubles(random, rows, out, 1);
    float[][] w = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] b = randomMatrix(random, 1, out, 1)[0];
    for (Float64Kernel kernel : kernels()) {
      assertThat(Float64Linear.forward(x, rows, Tensor.of(w), Tensor.wrap(b, out), kernel)).as(kernel.name())
          .isEqualTo(Float64Linear.forward(wide, rows, Tensor.of(w), Tensor.wrap(b, out), kernel));
      double[] fromFloats = new double[out * in];
      double[] fromDoubles = new double[out * in];
      Float64Linear.addWeightGradient(g, x, rows, out, in, fromFloats, kernel);
      Float64Linear.addWeightGradient(g, wide, rows, out, in, fromDoubles, kernel);
      assertThat(fromFloats).as(kernel.name()).isEqualTo(fromDoubles);
    }
  }

  @Test
  void refusesArraysThatDoNotHoldTheirShape() {
    assertThatThrownBy(() -> Float64Linear.addWeightGradient(new double[6], new double[20], 3, 2, 5, new double[10]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The input must hold 15 values, not 20");
    assertThatThrownBy(() -> Float64Linear.addWeightGradient(new double[6], new double[15], 3, 2, 5, new double[9]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The weight gradient must hold 10 values, not 9");
    assertThatThrownBy(() -> Float64Linear.addBiasGradient(new double[6], 3, 2, new double[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The bias gradient must hold 2 values, not 3");
    assertThatThrownBy(() -> Float64Linear.inputGradient(new double[7], 3, Tensor.of(new float[2][5])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The gradient must hold 6 values, not 7");
    assertThatThrownBy(() -> Float64Linear.forward(new double[14], 3, Tensor.of(new float[2][5]), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The input must hold 15 values, not 14");
  }
}
