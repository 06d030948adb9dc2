package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;

/**
 * The kernel of {@code module.precision: compensated}: each output {@code b[o] + sum_k x[k] W[o][k]} computed with
 * Ogita, Rump and Oishi's {@code Dot2} ("Accurate sum and dot product", SIAM J. Sci. Comput. 26(6), 2005) in float32,
 * so that the result is as accurate as if the dot product had been computed in twice float32's precision and then
 * rounded once to float32.
 *
 * <p><b>How.</b> Two error-free transformations, each of which gives a float32 result and its exact rounding error:
 *
 * <ul>
 *   <li>TwoProduct: {@code p = x * w}, {@code e = fma(x, w, -p)}; {@code p + e == x w} exactly (the fused multiply-add
 *       rounds {@code x w - p} once, and that value is representable).
 *   <li>TwoSum (Knuth, no branch): {@code t = s + p}, {@code z = t - s}, {@code q = (s - (t - z)) + (p - z)};
 *       {@code t + q == s + p} exactly.
 * </ul>
 *
 * For {@code k = 0, 1, ..., in - 1} in order, with {@code s} starting at the bias ({@code +0.0} without one) and the
 * correction {@code c} at {@code 0}: {@code [p, e] = TwoProduct(x[k], W[o][k])}, {@code [s, q] = TwoSum(s, p)},
 * {@code c = c + (q + e)}. The result is {@code s + c}, rounded once. {@code s} is the plain float32 sum of the rounded
 * products; {@code c} gathers every rounding error that sum and the products made.
 *
 * <p><b>Error.</b> With {@code u = 2^-24} and {@code gamma(m) = m u / (1 - m u)}, ORO's bound for Dot2 (their section 5;
 * the bias counted as one more, exact, product, so {@code n = in + 1} terms) is
 * {@code |y - exact| <= u |exact| + gamma(n)^2 (|b| + sum_k |x_k W_k|)}: the first term is the final rounding, the
 * second is {@code gamma(n)} times (about {@code n u}, 6e-5 for 1024 inputs) the float32 kernels' bound
 * {@code gamma(n) (|b| + sum_k |x_k W_k|)}. Unless the
 * terms cancel by a factor near {@code 1 / u}, the result is the exact value rounded to float32 (within half an ulp),
 * or one ulp off when the exact value lies very near the middle of two floats. Neither this nor any float32 result can
 * be closer than half an ulp in general; PyTorch's float32 {@code nn.Linear} is a few ulps off on wide layers (see
 * the README's numbers). The bound assumes no underflow: products below about {@code 1e-31} in magnitude lose bits of
 * their error term {@code e}, as in any float32 arithmetic.
 *
 * <p><b>Why.</b> For users who want the float32 output closest to the exact one, e.g. to compare runs across machines
 * or libraries within an ulp, at a cost of several float32 operations per term instead of one multiply-add (the
 * README gives the measured cost against the default kernel). Every value is computed in one fixed order, so the
 * result does not depend on the block size, on the rows beside it or on the JVM, as the other kernels guarantee.
 * This kernel does not follow the chain order of {@link LinearKernel}: that order exists to make the float32 kernels
 * agree bit for bit, and is moot here, where the result is (all but) correctly rounded.
 *
 * <p><b>Non-finite values.</b> A NaN input, weight or bias gives NaN, as the float32 kernels do. An infinite term, or
 * a sum that overflows, makes the error terms NaN ({@code inf - inf}) though the true result is an infinity (or
 * overflows): whenever {@code s} or {@code c} is not finite the result is the plain sum {@code s}, which is the
 * infinity (or NaN, for infinities of both signs) that the float32 kernels give. A zero correction is not added, so
 * that a sum of signed zeros keeps the sign a plain float32 sum gives it ({@code -0.0 + -0.0} is {@code -0.0}). A
 * product that overflows float32 is infinite here, as in any float32 product, where the float32 kernels' fused
 * multiply-add carries it exactly into the sum: {@code max * 2 + max * -2} is NaN here and {@code +inf} there (the exact
 * 0 is out of both's reach).
 *
 * <p>Rows are read a tile at a time into heap arrays, four at once, as in the scalar kernel ({@link HeapTileKernel}).
 */
final class CompensatedLinearKernel extends HeapTileKernel {
  CompensatedLinearKernel(Tensor weight, Tensor bias) {
    super(weight, bias);
  }

  @Override
  public String name() {
    return "compensated";
  }

  /**
   * Output {@code o} of the four rows of x at {@code x0}, into {@code ys[y0]}, {@code ys[y0 + out]}, ...: each with
   * exactly the operations of {@link #row1}, so that a row gives the same bits whichever path computes it. The four
   * rows' sums are independent chains, which the CPU overlaps.
   */
  @Override
  void rows4(float[] xs, int x0, int o, float[] ys, int y0) {
    int w = o * in;
    float b = bias == null ? 0f : bias[o];
    float s0 = b;
    float s1 = b;
    float s2 = b;
    float s3 = b;
    float c0 = 0f;
    float c1 = 0f;
    float c2 = 0f;
    float c3 = 0f;
    for (int k = 0; k < in; k++) {
      float wk = weight[w + k];
      int xk = x0 + k;
      float a0 = xs[xk];
      float a1 = xs[xk + in];
      float a2 = xs[xk + 2 * in];
      float a3 = xs[xk + 3 * in];
      // TwoProduct: p + e is the exact product.
      float p0 = a0 * wk;
      float p1 = a1 * wk;
      float p2 = a2 * wk;
      float p3 = a3 * wk;
      float e0 = Math.fma(a0, wk, -p0);
      float e1 = Math.fma(a1, wk, -p1);
      float e2 = Math.fma(a2, wk, -p2);
      float e3 = Math.fma(a3, wk, -p3);
      // TwoSum: t + q is the exact s + p.
      float t0 = s0 + p0;
      float t1 = s1 + p1;
      float t2 = s2 + p2;
      float t3 = s3 + p3;
      float z0 = t0 - s0;
      float z1 = t1 - s1;
      float z2 = t2 - s2;
      float z3 = t3 - s3;
      c0 += ((s0 - (t0 - z0)) + (p0 - z0)) + e0;
      c1 += ((s1 - (t1 - z1)) + (p1 - z1)) + e1;
      c2 += ((s2 - (t2 - z2)) + (p2 - z2)) + e2;
      c3 += ((s3 - (t3 - z3)) + (p3 - z3)) + e3;
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
    }
    ys[y0] = corrected(s0, c0);
    ys[y0 + out] = corrected(s1, c1);
    ys[y0 + 2 * out] = corrected(s2, c2);
    ys[y0 + 3 * out] = corrected(s3, c3);
  }

  /** Output {@code o} of the row of x at {@code x0}: Dot2, as described on the class. */
  @Override
  float row1(float[] xs, int x0, int o) {
    int w = o * in;
    float s = bias == null ? 0f : bias[o];
    float c = 0f;
    for (int k = 0; k < in; k++) {
      float a = xs[x0 + k];
      float wk = weight[w + k];
      float p = a * wk;
      float e = Math.fma(a, wk, -p);
      float t = s + p;
      float z = t - s;
      c += ((s - (t - z)) + (p - z)) + e;
      s = t;
    }
    return corrected(s, c);
  }

  /**
   * The sum {@code s} with its correction {@code c}, rounded once; the plain sum when either is not finite (an
   * infinite or NaN term, or an overflow, which leave the error terms NaN) or when there is nothing to correct.
   */
  static float corrected(float s, float c) {
    return Float.isFinite(s) && Float.isFinite(c) && c != 0f ? s + c : s;
  }
}
