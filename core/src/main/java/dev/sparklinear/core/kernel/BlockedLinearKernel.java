package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;

/**
 * The portable kernel: plain Java, cache-blocked, no allocation per row.
 *
 * <p>Rows are taken a tile at a time into heap arrays, four at once ({@link HeapTileKernel}). Each output is summed
 * in float32 in the order of {@link LinearKernel}, with {@code Math.fma} where the vector kernel fuses, so that the two
 * kernels give the same bits: an executor without the Vector API writes the numbers its neighbours write.
 */
final class BlockedLinearKernel extends HeapTileKernel {
  BlockedLinearKernel(Tensor weight, Tensor bias) {
    super(weight, bias);
  }

  @Override
  public String name() {
    return "scalar";
  }

  /**
   * Output {@code o} of the four rows of x at {@code x0}, into {@code ys[y0]}, {@code ys[y0 + out]}, ...: each in
   * the order of {@link LinearKernel} (one fused multiply-add per term, chains combined pairwise). Four rows at once so
   * that each weight value loaded serves four multiply-adds.
   */
  @Override
  void rows4(float[] xs, int x0, int o, float[] ys, int y0) {
    int length = SummationOrder.chainLength(in);
    int w = o * in;
    float b = bias == null ? 0f : bias[o];
    float s0 = 0f;
    float s1 = 0f;
    float s2 = 0f;
    float s3 = 0f;
    float t0 = 0f;
    float t1 = 0f;
    float t2 = 0f;
    float t3 = 0f;
    int chain = 0;
    for (int from = 0; from < in; from += length, chain++) {
      int to = Math.min(in, from + length);
      float a0 = chain == 0 ? b : 0f;
      float a1 = a0;
      float a2 = a0;
      float a3 = a0;
      for (int k = from; k < to; k++) {
        float wk = weight[w + k];
        int xk = x0 + k;
        a0 = Math.fma(xs[xk], wk, a0);
        a1 = Math.fma(xs[xk + in], wk, a1);
        a2 = Math.fma(xs[xk + 2 * in], wk, a2);
        a3 = Math.fma(xs[xk + 3 * in], wk, a3);
      }
      // s: chain 0, then chain 0 + chain 1; t: chain 2, then chain 2 + chain 3.
      switch (chain) {
        case 0 -> {
          s0 = a0;
          s1 = a1;
          s2 = a2;
          s3 = a3;
        }
        case 1 -> {
          s0 += a0;
          s1 += a1;
          s2 += a2;
          s3 += a3;
        }
        case 2 -> {
          t0 = a0;
          t1 = a1;
          t2 = a2;
          t3 = a3;
        }
        default -> {
          t0 += a0;
          t1 += a1;
          t2 += a2;
          t3 += a3;
        }
      }
    }
    if (chain > 2) {
      s0 += t0;
      s1 += t1;
      s2 += t2;
      s3 += t3;
    }
    ys[y0] = s0;
    ys[y0 + out] = s1;
    ys[y0 + 2 * out] = s2;
    ys[y0 + 3 * out] = s3;
  }

  /** Output {@code o} of the row of x at {@code x0}, in the order of {@link LinearKernel}. */
  @Override
  float row1(float[] xs, int x0, int o) {
    int length = SummationOrder.chainLength(in);
    int w = o * in;
    float s = 0f;
    float t = 0f;
    int chain = 0;
    for (int from = 0; from < in; from += length, chain++) {
      int to = Math.min(in, from + length);
      float a = chain == 0 ? (bias == null ? 0f : bias[o]) : 0f;
      for (int k = from; k < to; k++) {
        a = Math.fma(xs[x0 + k], weight[w + k], a);
      }
      switch (chain) {
        case 0 -> s = a;
        case 1 -> s += a;
        case 2 -> t = a;
        default -> t += a;
      }
    }
    return chain > 2 ? s + t : s;
  }
}
