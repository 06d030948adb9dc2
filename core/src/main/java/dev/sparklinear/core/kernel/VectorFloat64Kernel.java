package dev.sparklinear.core.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link Float64Kernel} on the Vector API, with float64 vectors of the preferred species, and float vectors only
 * of {@link VectorLinearKernel}'s species (in {@link #widen}): on JDK 17 a second float vector shape used in the same
 * JVM made the forward kernel about 40 times slower, its vector operations no longer compiled to single instructions.
 *
 * <p><b>Tiles.</b> The columns of {@code C} are spread over lanes and {@code A}'s values broadcast, so no horizontal
 * sum is needed: a micro-tile of 4 rows x 4 vectors of columns stays in 16 accumulators while {@code k} runs, each
 * step loading 4 vectors of {@code B} and broadcasting 4 values of {@code A} for 16 fused multiply-adds. Rows past
 * the last whole tile take a 1-row variant (still 4 independent chains), a last pair of vectors of columns 4-row and
 * 1-row variants of its own, and the columns past the last whole pair (every column of a layer of one output) are
 * scalar, the chains of 8 rows side by side so that they are not held to one chain's latency.
 *
 * <p><b>Layout.</b> Row-major {@code B} is read as it is: a chunk of rows of {@code X} stays in L2. A weight is read
 * for every chunk and can be large, so {@link #pack} rearranges it once into panels of 4 vectors of columns, a
 * 2-vector panel past the last whole panel and a narrow panel of the last columns, in each of which the values of one
 * {@code k} are contiguous: the group of columns starting at {@code J}, {@code W} wide, holds {@code B[k, J + jj]} at
 * {@code depth * J + k * W + jj}. Row-major, a step of {@code k} jumps a whole row, a new page per load for a wide
 * weight.
 *
 * <p>A fused multiply-add rounds each term once, as {@link Math#fma} in the scalar kernel, so each value of {@code C}
 * is the same sum, in the same order, as the scalar kernel's, to the bit.
 *
 * <p>Only {@link Float64Linear} makes one, after checking that the Vector API is present: this class must not be
 * loaded on a JVM without it.
 */
final class VectorFloat64Kernel implements Float64Kernel {
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
  private static final int LANES = DOUBLES.length();
  /** For {@link #widen} only: the forward kernel's float species, which holds two float64 vectors' worth. */
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  /** Columns of the widest panel, 4 vectors; the narrower one has {@link #PAIR}. */
  private static final int PANEL = 4 * LANES;
  private static final int PAIR = 2 * LANES;
  private static final int TILE_ROWS = 4;
  /** Rows whose chains run side by side in the columns past the vectors. */
  private static final int SCALAR_CHAINS = 8;

  VectorFloat64Kernel() {
    if (FLOATS.length() != 2 * LANES) {
      throw new IllegalStateException("The preferred float vector holds " + FLOATS.length() + " floats and the"
          + " preferred double vector " + LANES + " doubles; widen makes two of the one from the other");
    }
  }

  @Override
  public double[] pack(double[] b, int depth, int cols) {
    double[] packed = new double[depth * cols];
    int j = 0;
    for (; j + PANEL <= cols; j += PANEL) {
      packGroup(b, depth, cols, j, PANEL, packed);
    }
    for (; j + PAIR <= cols; j += PAIR) {
      packGroup(b, depth, cols, j, PAIR, packed);
    }
    if (j < cols) {
      packGroup(b, depth, cols, j, cols - j, packed);
    }
    return packed;
  }

  /** Columns {@code first .. first + width} of {@code b}, each {@code k}'s contiguous, at {@code depth * first}. */
  private static void packGroup(double[] b, int depth, int cols, int first, int width, double[] packed) {
    for (int k = 0; k < depth; k++) {
      System.arraycopy(b, k * cols + first, packed, depth * first + k * width, width);
    }
  }

  @Override
  public void addProducts(double[] a, int aOffset, int aDepthStride, int aRowStride, double[] b, boolean packed,
      int depth, int rows, int cols, double[] c, int cOffset, boolean fromZero) {
    int wholeRows = rows - rows % TILE_ROWS;
    int j = 0;
    for (; j + PANEL <= cols; j += PANEL) {
      int base = packed ? depth * j : j;
      int stride = packed ? PANEL : cols;
      int m = 0;
      for (; m < wholeRows; m += TILE_ROWS) {
        tile4x4(a, aOffset + m * aRowStride, aDepthStride, aRowStride, b, base, stride, depth, cols, c,
            cOffset + m * cols + j, fromZero);
      }
      for (; m < rows; m++) {
        tile1x4(a, aOffset + m * aRowStride, aDepthStride, aRowStride, b, base, stride, depth, cols, c,
            cOffset + m * cols + j, fromZero);
      }
    }
    for (; j + PAIR <= cols; j += PAIR) {
      int base = packed ? depth * j : j;
      int stride = packed ? PAIR : cols;
      int m = 0;
      for (; m < wholeRows; m += TILE_ROWS) {
        tile4x2(a, aOffset + m * aRowStride, aDepthStride, aRowStride, b, base, stride, depth, cols, c,
            cOffset + m * cols + j, fromZero);
      }
      for (; m < rows; m++) {
        tile1x2(a, aOffset + m * aRowStride, aDepthStride, aRowStride, b, base, stride, depth, cols, c,
            cOffset + m * cols + j, fromZero);
      }
    }
    int base = packed ? depth * j : j;
    int stride = packed ? cols - j : cols;
    for (int jj = j; jj < cols; jj++) {
      int bj = base + jj - j;
      int m = 0;
      for (; m + SCALAR_CHAINS <= rows; m += SCALAR_CHAINS) {
        columnOfRows8(a, aOffset + m * aRowStride, aDepthStride, aRowStride, b, bj, stride, depth, cols, c,
            cOffset + m * cols + jj, fromZero);
      }
      for (; m < rows; m++) {
        int a0 = aOffset + m * aRowStride;
        int c0 = cOffset + m * cols + jj;
        double sum = fromZero ? 0 : c[c0];
        for (int k = 0; k < depth; k++) {
          sum = Math.fma(a[a0 + k * aDepthStride], b[bj + k * stride], sum);
        }
        c[c0] = sum;
      }
    }
  }

  /**
   * One column of {@code C} past the vectors, for 8 rows: 8 independent chains of scalar fused multiply-adds, so that
   * a layer of one output (where every column is past the vectors) is not held to one chain's latency.
   */
  private static void columnOfRows8(double[] a, int a0, int aDepthStride, int aRowStride, double[] b, int bj,
      int stride, int depth, int cols, double[] c, int c0, boolean fromZero) {
    double s0 = fromZero ? 0 : c[c0];
    double s1 = fromZero ? 0 : c[c0 + cols];
    double s2 = fromZero ? 0 : c[c0 + 2 * cols];
    double s3 = fromZero ? 0 : c[c0 + 3 * cols];
    double s4 = fromZero ? 0 : c[c0 + 4 * cols];
    double s5 = fromZero ? 0 : c[c0 + 5 * cols];
    double s6 = fromZero ? 0 : c[c0 + 6 * cols];
    double s7 = fromZero ? 0 : c[c0 + 7 * cols];
    for (int k = 0; k < depth; k++) {
      double factor = b[bj + k * stride];
      int ak = a0 + k * aDepthStride;
      s0 = Math.fma(a[ak], factor, s0);
      s1 = Math.fma(a[ak + aRowStride], factor, s1);
      s2 = Math.fma(a[ak + 2 * aRowStride], factor, s2);
      s3 = Math.fma(a[ak + 3 * aRowStride], factor, s3);
      s4 = Math.fma(a[ak + 4 * aRowStride], factor, s4);
      s5 = Math.fma(a[ak + 5 * aRowStride], factor, s5);
      s6 = Math.fma(a[ak + 6 * aRowStride], factor, s6);
      s7 = Math.fma(a[ak + 7 * aRowStride], factor, s7);
    }
    c[c0] = s0;
    c[c0 + cols] = s1;
    c[c0 + 2 * cols] = s2;
    c[c0 + 3 * cols] = s3;
    c[c0 + 4 * cols] = s4;
    c[c0 + 5 * cols] = s5;
    c[c0 + 6 * cols] = s6;
    c[c0 + 7 * cols] = s7;
  }

  /** The accumulator of {@code c[offset ..]}: its values, or zeros {@code fromZero}. */
  private static DoubleVector start(double[] c, int offset, boolean fromZero) {
    return fromZero ? DoubleVector.zero(DOUBLES) : DoubleVector.fromArray(DOUBLES, c, offset);
  }

  private static void tile4x4(double[] a, int aRow, int aDepthStride, int aRowStride, double[] b, int base,
      int stride, int depth, int cols, double[] c, int c0, boolean fromZero) {
    int c1 = c0 + cols;
    int c2 = c1 + cols;
    int c3 = c2 + cols;
    DoubleVector s00 = start(c, c0, fromZero);
    DoubleVector s01 = start(c, c0 + LANES, fromZero);
    DoubleVector s02 = start(c, c0 + 2 * LANES, fromZero);
    DoubleVector s03 = start(c, c0 + 3 * LANES, fromZero);
    DoubleVector s10 = start(c, c1, fromZero);
    DoubleVector s11 = start(c, c1 + LANES, fromZero);
    DoubleVector s12 = start(c, c1 + 2 * LANES, fromZero);
    DoubleVector s13 = start(c, c1 + 3 * LANES, fromZero);
    DoubleVector s20 = start(c, c2, fromZero);
    DoubleVector s21 = start(c, c2 + LANES, fromZero);
    DoubleVector s22 = start(c, c2 + 2 * LANES, fromZero);
    DoubleVector s23 = start(c, c2 + 3 * LANES, fromZero);
    DoubleVector s30 = start(c, c3, fromZero);
    DoubleVector s31 = start(c, c3 + LANES, fromZero);
    DoubleVector s32 = start(c, c3 + 2 * LANES, fromZero);
    DoubleVector s33 = start(c, c3 + 3 * LANES, fromZero);
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      DoubleVector b0 = DoubleVector.fromArray(DOUBLES, b, bk);
      DoubleVector b1 = DoubleVector.fromArray(DOUBLES, b, bk + LANES);
      DoubleVector b2 = DoubleVector.fromArray(DOUBLES, b, bk + 2 * LANES);
      DoubleVector b3 = DoubleVector.fromArray(DOUBLES, b, bk + 3 * LANES);
      int ak = k * aDepthStride + aRow;
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[ak]);
      s00 = b0.fma(x, s00);
      s01 = b1.fma(x, s01);
      s02 = b2.fma(x, s02);
      s03 = b3.fma(x, s03);
      x = DoubleVector.broadcast(DOUBLES, a[ak + aRowStride]);
      s10 = b0.fma(x, s10);
      s11 = b1.fma(x, s11);
      s12 = b2.fma(x, s12);
      s13 = b3.fma(x, s13);
      x = DoubleVector.broadcast(DOUBLES, a[ak + 2 * aRowStride]);
      s20 = b0.fma(x, s20);
      s21 = b1.fma(x, s21);
      s22 = b2.fma(x, s22);
      s23 = b3.fma(x, s23);
      x = DoubleVector.broadcast(DOUBLES, a[ak + 3 * aRowStride]);
      s30 = b0.fma(x, s30);
      s31 = b1.fma(x, s31);
      s32 = b2.fma(x, s32);
      s33 = b3.fma(x, s33);
    }
    s00.intoArray(c, c0);
    s01.intoArray(c, c0 + LANES);
    s02.intoArray(c, c0 + 2 * LANES);
    s03.intoArray(c, c0 + 3 * LANES);
    s10.intoArray(c, c1);
    s11.intoArray(c, c1 + LANES);
    s12.intoArray(c, c1 + 2 * LANES);
    s13.intoArray(c, c1 + 3 * LANES);
    s20.intoArray(c, c2);
    s21.intoArray(c, c2 + LANES);
    s22.intoArray(c, c2 + 2 * LANES);
    s23.intoArray(c, c2 + 3 * LANES);
    s30.intoArray(c, c3);
    s31.intoArray(c, c3 + LANES);
    s32.intoArray(c, c3 + 2 * LANES);
    s33.intoArray(c, c3 + 3 * LANES);
  }

  private static void tile1x4(double[] a, int aRow, int aDepthStride, int aRowStride, double[] b, int base,
      int stride, int depth, int cols, double[] c, int c0, boolean fromZero) {
    DoubleVector s0 = start(c, c0, fromZero);
    DoubleVector s1 = start(c, c0 + LANES, fromZero);
    DoubleVector s2 = start(c, c0 + 2 * LANES, fromZero);
    DoubleVector s3 = start(c, c0 + 3 * LANES, fromZero);
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[k * aDepthStride + aRow]);
      s0 = DoubleVector.fromArray(DOUBLES, b, bk).fma(x, s0);
      s1 = DoubleVector.fromArray(DOUBLES, b, bk + LANES).fma(x, s1);
      s2 = DoubleVector.fromArray(DOUBLES, b, bk + 2 * LANES).fma(x, s2);
      s3 = DoubleVector.fromArray(DOUBLES, b, bk + 3 * LANES).fma(x, s3);
    }
    s0.intoArray(c, c0);
    s1.intoArray(c, c0 + LANES);
    s2.intoArray(c, c0 + 2 * LANES);
    s3.intoArray(c, c0 + 3 * LANES);
  }

  private static void tile4x2(double[] a, int aRow, int aDepthStride, int aRowStride, double[] b, int base,
      int stride, int depth, int cols, double[] c, int c0, boolean fromZero) {
    int c1 = c0 + cols;
    int c2 = c1 + cols;
    int c3 = c2 + cols;
    DoubleVector s00 = start(c, c0, fromZero);
    DoubleVector s01 = start(c, c0 + LANES, fromZero);
    DoubleVector s10 = start(c, c1, fromZero);
    DoubleVector s11 = start(c, c1 + LANES, fromZero);
    DoubleVector s20 = start(c, c2, fromZero);
    DoubleVector s21 = start(c, c2 + LANES, fromZero);
    DoubleVector s30 = start(c, c3, fromZero);
    DoubleVector s31 = start(c, c3 + LANES, fromZero);
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      DoubleVector b0 = DoubleVector.fromArray(DOUBLES, b, bk);
      DoubleVector b1 = DoubleVector.fromArray(DOUBLES, b, bk + LANES);
      int ak = k * aDepthStride + aRow;
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[ak]);
      s00 = b0.fma(x, s00);
      s01 = b1.fma(x, s01);
      x = DoubleVector.broadcast(DOUBLES, a[ak + aRowStride]);
      s10 = b0.fma(x, s10);
      s11 = b1.fma(x, s11);
      x = DoubleVector.broadcast(DOUBLES, a[ak + 2 * aRowStride]);
      s20 = b0.fma(x, s20);
      s21 = b1.fma(x, s21);
      x = DoubleVector.broadcast(DOUBLES, a[ak + 3 * aRowStride]);
      s30 = b0.fma(x, s30);
      s31 = b1.fma(x, s31);
    }
    s00.intoArray(c, c0);
    s01.intoArray(c, c0 + LANES);
    s10.intoArray(c, c1);
    s11.intoArray(c, c1 + LANES);
    s20.intoArray(c, c2);
    s21.intoArray(c, c2 + LANES);
    s30.intoArray(c, c3);
    s31.intoArray(c, c3 + LANES);
  }

  private static void tile1x2(double[] a, int aRow, int aDepthStride, int aRowStride, double[] b, int base,
      int stride, int depth, int cols, double[] c, int c0, boolean fromZero) {
    DoubleVector s0 = start(c, c0, fromZero);
    DoubleVector s1 = start(c, c0 + LANES, fromZero);
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[k * aDepthStride + aRow]);
      s0 = DoubleVector.fromArray(DOUBLES, b, bk).fma(x, s0);
      s1 = DoubleVector.fromArray(DOUBLES, b, bk + LANES).fma(x, s1);
    }
    s0.intoArray(c, c0);
    s1.intoArray(c, c0 + LANES);
  }

  /**
   * Float vectors of the preferred species (the one {@link VectorLinearKernel} uses, so no second float shape appears
   * in the JVM), each widened in registers into two float64 vectors: JDK 17 does not vectorize the scalar loop.
   */
  @Override
  public void widen(float[] src, int from, int count, double[] dst) {
    int i = 0;
    for (int bound = FLOATS.loopBound(count); i < bound; i += FLOATS.length()) {
      FloatVector v = FloatVector.fromArray(FLOATS, src, from + i);
      ((DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 0)).intoArray(dst, i);
      ((DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 1)).intoArray(dst, i + LANES);
    }
    for (; i < count; i++) {
      dst[i] = src[from + i];
    }
  }

  @Override
  public String name() {
    return "vector";
  }
}
