package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;

/**
 * What the two plain-Java kernels share: rows are taken a tile at a time into a heap array with one bulk copy (cheaper
 * than reading Arrow memory value by value), four rows are computed together so that each weight value loaded serves
 * four dot products, and the epilogue is applied to each finished tile. Subclasses say how one output of four rows,
 * or of one row, is summed.
 */
abstract class HeapTileKernel implements LinearKernel {
  /** Rows per tile: keeps a tile of x and of y within L1/L2 for the widths this project sees. */
  private static final int TILE_VALUES = 16 * 1024;

  protected final int in;
  protected final int out;
  /** {@code [out, in]}, row-major: each output's weights are contiguous. */
  protected final float[] weight;
  /** {@code [out]}, or null without a bias. */
  protected final float[] bias;

  HeapTileKernel(Tensor weight, Tensor bias) {
    this.out = weight.size(0);
    this.in = weight.size(1);
    this.weight = weight.toArray();
    this.bias = bias == null ? null : bias.toArray();
  }

  @Override
  public final int inFeatures() {
    return in;
  }

  @Override
  public final int outFeatures() {
    return out;
  }

  @Override
  public final void apply(FloatBlock x, FloatBlock y, Epilogue epilogue) {
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
      for (int o = 0; o < out; o++) {
        rows4(xs, x0, o, ys, r * out + o);
      }
    }
    for (; r < count; r++) {
      int x0 = r * in;
      for (int o = 0; o < out; o++) {
        ys[r * out + o] = row1(xs, x0, o);
      }
    }
  }

  /**
   * Output {@code o} of the four rows of x at {@code xs[x0]} (rows {@code in} apart), into {@code ys[y0]},
   * {@code ys[y0 + out]}, ...: each with the operations {@link #row1} makes for one row, so that a row gives the same
   * bits whichever path computes it.
   */
  abstract void rows4(float[] xs, int x0, int o, float[] ys, int y0);

  /** Output {@code o} of the row of x at {@code xs[x0]}. */
  abstract float row1(float[] xs, int x0, int o);
}
