package dev.sparklinear.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

/**
 * {@code y = x W^T + b} computed in double precision with plain loops, written independently of the production
 * kernels, and the check that a float32 result is as close to it as float32 arithmetic allows.
 *
 * <p><b>Tolerance.</b> The inputs, weights and biases are float32 values, so their products and sums in double are
 * exact to about 2^-53 relative: the reference is the true value for all purposes here. A float32 kernel that sums
 * {@code n} products and then adds the bias, in any order, differs from the true value by at most
 * {@code gamma(n + 1) * (sum_k |x_k w_k| + |b|)} with {@code gamma(m) = m u / (1 - m u)} and {@code u = 2^-24} (the
 * standard bound for floating-point dot products, Higham, "Accuracy and Stability of Numerical Algorithms", 3.1). It is
 * proportional to the sum of absolute terms, not to |y|, because cancellation can make |y| much smaller than its
 * error. Two float32 computations that sum in different orders (this project and PyTorch) are each within the bound of
 * the true value, so within twice the bound of each other. A wrong index or a missing term is an error of the order of
 * one whole term, far outside the bound even for the widest layer tested (256 inputs: about 1.5e-5 relative).
 */
public final class ReferenceAffine {
  /** Unit roundoff of float32. */
  public static final double FLOAT32_UNIT_ROUNDOFF = 0x1p-24;

  private ReferenceAffine() {}

  /** {@code x W^T + b} in double; {@code weight} is {@code [out][in]}, {@code bias} is {@code [out]} or null. */
  public static double[][] forward(float[][] x, float[][] weight, float[] bias) {
    double[][] y = new double[x.length][weight.length];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < weight.length; o++) {
        double sum = bias == null ? 0 : bias[o];
        for (int k = 0; k < weight[o].length; k++) {
          sum += (double) x[r][k] * weight[o][k];
        }
        y[r][o] = sum;
      }
    }
    return y;
  }

  /** The largest error a float32 result may have: {@code gamma(in + 1) * (sum_k |x_k w_k| + |b|)}, per value. */
  public static double[][] float32ErrorBound(float[][] x, float[][] weight, float[] bias) {
    double[][] bound = new double[x.length][weight.length];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < weight.length; o++) {
        int terms = weight[o].length + 1;
        double gamma = terms * FLOAT32_UNIT_ROUNDOFF / (1 - terms * FLOAT32_UNIT_ROUNDOFF);
        double magnitude = bias == null ? 0 : Math.abs(bias[o]);
        for (int k = 0; k < weight[o].length; k++) {
          magnitude += Math.abs((double) x[r][k] * weight[o][k]);
        }
        bound[r][o] = gamma * magnitude;
      }
    }
    return bound;
  }

  /** Asserts that every value of {@code actual} is within {@code factor} float32 error bounds of the reference. */
  public static void assertWithinFloat32Bound(
      float[][] actual, float[][] x, float[][] weight, float[] bias, double factor) {
    double[][] expected = forward(x, weight, bias);
    double[][] bound = float32ErrorBound(x, weight, bias);
    assertThat(actual).hasNumberOfRows(x.length);
    for (int r = 0; r < x.length; r++) {
      assertThat(actual[r]).as("row %d", r).hasSize(weight.length);
      for (int o = 0; o < weight.length; o++) {
        double error = Math.abs(actual[r][o] - expected[r][o]);
        assertThat(error)
            .as("|y - reference| at row %d, output %d (y = %s, reference = %s)", r, o, actual[r][o], expected[r][o])
            .isLessThanOrEqualTo(factor * bound[r][o]);
      }
    }
  }

  /** A {@code rows x cols} matrix of values uniform in {@code [-scale, scale)}. */
  public static float[][] randomMatrix(SplittableRandom random, int rows, int cols, double scale) {
    float[][] m = new float[rows][cols];
    for (float[] row : m) {
      for (int c = 0; c < cols; c++) {
        row[c] = (float) ((random.nextDouble() * 2 - 1) * scale);
      }
    }
    return m;
  }

  /** A vector of values uniform in {@code [-scale, scale)}. */
  public static float[] randomVector(SplittableRandom random, int size, double scale) {
    return randomMatrix(random, 1, size, scale)[0];
  }
}
