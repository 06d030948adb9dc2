package dev.sparklinear.core.testing;

import java.math.BigDecimal;

/**
 * {@code b + sum_k x_k w_k} computed exactly, in {@link BigDecimal}, and rounded once to float32: the value a
 * correctly rounded float32 kernel would give, for tests that judge a kernel by ulps rather than by an error bound.
 *
 * <p>Exact because every product of two float32 values is exact in double (24 + 24 significant bits fit in 53), a
 * double converts to {@link BigDecimal} exactly, and {@link BigDecimal} adds exactly. The rounding to float32 is done
 * here, by comparing exact distances, rather than trusted to a conversion.
 */
public final class ExactAffine {
  private ExactAffine() {}

  /** {@code b + sum_k x[k] w[k]}, exactly; {@code b} is a float32 value (0 without a bias). */
  public static BigDecimal dot(float[] x, float[] w, float b) {
    BigDecimal sum = new BigDecimal(b);
    for (int k = 0; k < x.length; k++) {
      double product = (double) x[k] * w[k]; // exact: 48 significant bits at most
      if (product != 0) {
        sum = sum.add(new BigDecimal(product));
      }
    }
    return sum;
  }

  /** {@code |b| + sum_k |x[k] w[k]|}, the magnitude that float error bounds are proportional to. */
  public static double absoluteSum(float[] x, float[] w, float b) {
    double sum = Math.abs(b);
    for (int k = 0; k < x.length; k++) {
      sum += Math.abs((double) x[k] * w[k]);
    }
    return sum;
  }

  /**
   * The float32 nearest to {@code exact}, ties to the one with an even significand (IEEE 754 round to nearest). Assumes
   * {@code exact} is within float32's finite range.
   */
  public static float roundToFloat(BigDecimal exact) {
    // Within one float32 ulp of the answer (the double in between is within half a double ulp); pick the nearest of
    // it and its two neighbours by exact comparison.
    float guess = (float) exact.doubleValue();
    float best = guess;
    BigDecimal bestDistance = distance(exact, guess);
    for (float candidate : new float[] {Math.nextDown(guess), Math.nextUp(guess)}) {
      BigDecimal d = distance(exact, candidate);
      int order = d.compareTo(bestDistance);
      if (order < 0 || order == 0 && (Float.floatToRawIntBits(candidate) & 1) == 0) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best == 0 ? 0f : best;
  }

  private static BigDecimal distance(BigDecimal exact, float candidate) {
    return new BigDecimal(candidate).subtract(exact).abs();
  }
}
