package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;

/**
 * The portable kernel: plain Java, cache-blocked, no allocation per row.
 *
 * <p>Rows are taken a tile at a time into a heap array with one bulk copy (cheaper than reading Arrow memory value by
 * value), and four rows are computed together so that each weight value loaded serves four dot products. Accumulation
 * is in float32, in input order, like a straightforward PyTorch CPU matmul.
 */
final class BlockedLinearKernel implements LinearKernel {
  /** Rows per tile: keeps a tile of x and of y within L1/L2 for the widths this project sees. */
  private static final int TILE_VALUES = 16 * 1024;

  private final int in;
  private final int out;
  private final float[] weight; // [out, in], row-major: each output's weights are contiguous
  private final float[] bias; // [out] or null

  BlockedLinearKernel(Tensor weight, Tensor bias) {
    this.out = weight.size(0);
    this.in = weight.size(1);
    this.weight = weight.toArray();
    this.bias = bias == null ? null : bias.toArray();
  }

  @Override
  public int inFeatures() {
    return in;
  }

  @Override
  public int outFeatures() {
    return out;
  }

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void apply(FloatBlock x, FloatBlock y, Epilogue epilogue) {
    int n = x.rows();
    int tileRows = Math.max(4, TILE_VALUES / Math.max(1, Math.max(in, out)));
    float[] xs = new float[Math.min(n, tileRows) * in];
    float[] ys = new float[Math.min(n, tileRows) * out];
    for (int first = 0; first < n; first += tileRows) {
      int count = Math.min(tileRows, n - first);
      x.readRows(first, count, xs, 0);
      computeTile(xs, ys, count);
      if (epilogue != null) {
        epilogue.apply(ys, 0, count * out);
      }
      y.writeRows(first, count, ys, 0);
    }
  }

  private void computeTile(float[] xs, float[] ys, int count) {
    int r = 0;
    for (; r + 4 <= count; r += 4) {
      int x0 = r * in;
      int x1 = x0 + in;
      int x2 = x1 + in;
      int x3 = x2 + in;
      for (int o = 0; o < out; o++) {
        int w = o * in;
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        for (int k = 0; k < in; k++) {
          float wk = weight[w + k];
          a0 += xs[x0 + k] * wk;
          a1 += xs[x1 + k] * wk;
          a2 += xs[x2 + k] * wk;
          a3 += xs[x3 + k] * wk;
        }
        float b = bias == null ? 0f : bias[o];
        ys[r * out + o] = a0 + b;
        ys[(r + 1) * out + o] = a1 + b;
        ys[(r + 2) * out + o] = a2 + b;
        ys[(r + 3) * out + o] = a3 + b;
      }
    }
    for (; r < count; r++) {
      int x0 = r * in;
      for (int o = 0; o < out; o++) {
        int w = o * in;
        float a = 0f;
        for (int k = 0; k < in; k++) {
          a += xs[x0 + k] * weight[w + k];
        }
        ys[r * out + o] = a + (bias == null ? 0f : bias[o]);
      }
    }
  }
}
