package dev.sparklinear.core.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link GradientKernel} on the Vector API, in float64: {@code B}'s float32 values are loaded as float vectors of
 * the preferred species and each is widened in registers into two float64 vectors of the same width, so no float64
 * copy of {@code B} is made. The float species must be the one {@link VectorLinearKernel} uses: on JDK 17 a second
 * float vector shape used in the same JVM (half-width float vectors, widened to one float64 vector each) made the
 * forward kernel about 40 times slower (256 -> 256 on 1,024 rows: 1.2 ms a block became 55 ms), its vector operations
 * no longer compiled to single instructions.
 *
 * <p><b>Tiles.</b> The columns of {@code C} are spread over lanes and {@code A}'s values broadcast, so no horizontal
 * sum is needed: a micro-tile of 4 rows x 2 float vectors of columns (4 float64 vectors) stays in 16 accumulators
 * while {@code k} runs, each step loading 2 float vectors of {@code B} and broadcasting 4 values of {@code A} for 16
 * fused multiply-adds. Rows past the last whole tile take a 1-row variant (still 4 independent chains, for a layer of
 * one output), a last single float vector of columns 4-row and 1-row variants of its own, and the columns past the
 * last whole float vector are added one at a time.
 *
 * <p><b>Layout.</b> Row-major {@code B} is read as it is: a chunk of rows of {@code X} stays in L2. A weight is read
 * for every chunk and can be large, so {@link #pack} rearranges it once into panels of 2 float vectors of columns, a
 * 1-vector panel past the last whole panel and a narrow panel of the last columns, in each of which the values of one
 * {@code k} are contiguous: the group of columns starting at {@code J}, {@code W} wide, holds {@code B[k, J + jj]} at
 * {@code depth * J + k * W + jj}. Row-major, a step of {@code k} jumps a whole row, a new page per load for a wide
 * weight.
 *
 * <p><b>Why float64.</b> A float32 accumulator (as this kernel had, summing a chunk of rows in one register) gave
 * weight gradients more than three times torch's own float32 error against the float64 result. A product of two
 * float32 values is exact in float64 and a fused multiply-add adds it with one rounding, so each value of {@code C} is
 * the same sum, in the same order, as the scalar kernel's, to the bit.
 *
 * <p>Only {@link LinearGradients} makes one, after checking that the Vector API is present: this class must not be
 * loaded on a JVM without it.
 */
final class VectorGradientKernel implements GradientKernel {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
  /** Floats per float vector: two float64 vectors' worth. */
  private static final int FLOAT_LANES = FLOATS.length();
  private static final int LANES = DOUBLES.length();
  private static final int PANEL = 2 * FLOAT_LANES;
  private static final int TILE_ROWS = 4;

  VectorGradientKernel() {
    if (FLOAT_LANES != 2 * LANES) {
      throw new IllegalStateException("The preferred float vector holds " + FLOAT_LANES + " floats and the preferred"
          + " double vector " + LANES + " doubles; this kernel widens one into two of the other");
    }
  }

  @Override
  public float[] pack(float[] b, int depth, int cols) {
    float[] packed = new float[depth * cols];
    int j = 0;
    for (; j + PANEL <= cols; j += PANEL) {
      packGroup(b, depth, cols, j, PANEL, packed);
    }
    for (; j + FLOAT_LANES <= cols; j += FLOAT_LANES) {
      packGroup(b, depth, cols, j, FLOAT_LANES, packed);
    }
    if (j < cols) {
      packGroup(b, depth, cols, j, cols - j, packed);
    }
    return packed;
  }

  /** Columns {@code first .. first + width} of {@code b}, each {@code k}'s contiguous, at {@code depth * first}. */
  private static void packGroup(float[] b, int depth, int cols, int first, int width, float[] packed) {
    for (int k = 0; k < depth; k++) {
      System.arraycopy(b, k * cols + first, packed, depth * first + k * width, width);
    }
  }

  @Override
  public void addProducts(float[] a, int aDepthStride, int aRowStride, float[] b, boolean packed, int depth, int rows,
      int cols, double[] c, boolean fromZero) {
    int wholeRows = rows - rows % TILE_ROWS;
    int j = 0;
    for (; j + PANEL <= cols; j += PANEL) {
      int base = packed ? depth * j : j;
      int stride = packed ? PANEL : cols;
      int m = 0;
      for (; m < wholeRows; m += TILE_ROWS) {
        tile4x4(a, aDepthStride, aRowStride, b, base, stride, depth, cols, c, m, j, fromZero);
      }
      for (; m < rows; m++) {
        tile1x4(a, aDepthStride, aRowStride, b, base, stride, depth, cols, c, m, j, fromZero);
      }
    }
    for (; j + FLOAT_LANES <= cols; j += FLOAT_LANES) {
      int base = packed ? depth * j : j;
      int stride = packed ? FLOAT_LANES : cols;
      int m = 0;
      for (; m < wholeRows; m += TILE_ROWS) {
        tile4x2(a, aDepthStride, aRowStride, b, base, stride, depth, cols, c, m, j, fromZero);
      }
      for (; m < rows; m++) {
        tile1x2(a, aDepthStride, aRowStride, b, base, stride, depth, cols, c, m, j, fromZero);
      }
    }
    int base = packed ? depth * j : j;
    int stride = packed ? cols - j : cols;
    for (int m = 0; m < rows; m++) {
      for (int jj = j; jj < cols; jj++) {
        double sum = fromZero ? 0 : c[m * cols + jj];
        for (int k = 0; k < depth; k++) {
          sum += (double) a[k * aDepthStride + m * aRowStride] * b[base + k * stride + jj - j];
        }
        c[m * cols + jj] = sum;
      }
    }
  }

  /** The accumulator of {@code c[offset ..]}: its values, or zeros {@code fromZero}. */
  private static DoubleVector start(double[] c, int offset, boolean fromZero) {
    return fromZero ? DoubleVector.zero(DOUBLES) : DoubleVector.fromArray(DOUBLES, c, offset);
  }

  /** The float64 vector of lanes {@code part * LANES ..} of {@code floats}. */
  private static DoubleVector widen(FloatVector floats, int part) {
    return (DoubleVector) floats.convertShape(VectorOperators.F2D, DOUBLES, part);
  }

  private static void tile4x4(float[] a, int aDepthStride, int aRowStride, float[] b, int base, int stride,
      int depth, int cols, double[] c, int m, int j, boolean fromZero) {
    int c0 = m * cols + j;
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
    int aRow = m * aRowStride;
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      FloatVector low = FloatVector.fromArray(FLOATS, b, bk);
      FloatVector high = FloatVector.fromArray(FLOATS, b, bk + FLOAT_LANES);
      DoubleVector b0 = widen(low, 0);
      DoubleVector b1 = widen(low, 1);
      DoubleVector b2 = widen(high, 0);
      DoubleVector b3 = widen(high, 1);
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

  private static void tile1x4(float[] a, int aDepthStride, int aRowStride, float[] b, int base, int stride,
      int depth, int cols, double[] c, int m, int j, boolean fromZero) {
    int c0 = m * cols + j;
    DoubleVector s0 = start(c, c0, fromZero);
    DoubleVector s1 = start(c, c0 + LANES, fromZero);
    DoubleVector s2 = start(c, c0 + 2 * LANES, fromZero);
    DoubleVector s3 = start(c, c0 + 3 * LANES, fromZero);
    int aRow = m * aRowStride;
    for (int k = 0; k < depth; k++) {
      int bk = base + k * stride;
      FloatVector low = FloatVector.fromArray(FLOATS, b, bk);
      FloatVector high = FloatVector.fromArray(FLOATS, b, bk + FLOAT_LANES);
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[k * aDepthStride + aRow]);
      s0 = widen(low, 0).fma(x, s0);
      s1 = widen(low, 1).fma(x, s1);
      s2 = widen(high, 0).fma(x, s2);
      s3 = widen(high, 1).fma(x, s3);
    }
    s0.intoArray(c, c0);
    s1.intoArray(c, c0 + LANES);
    s2.intoArray(c, c0 + 2 * LANES);
    s3.intoArray(c, c0 + 3 * LANES);
  }

  private static void tile4x2(float[] a, int aDepthStride, int aRowStride, float[] b, int base, int stride,
      int depth, int cols, double[] c, int m, int j, boolean fromZero) {
    int c0 = m * cols + j;
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
    int aRow = m * aRowStride;
    for (int k = 0; k < depth; k++) {
      FloatVector v = FloatVector.fromArray(FLOATS, b, base + k * stride);
      DoubleVector b0 = widen(v, 0);
      DoubleVector b1 = widen(v, 1);
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

  private static void tile1x2(float[] a, int aDepthStride, int aRowStride, float[] b, int base, int stride,
      int depth, int cols, double[] c, int m, int j, boolean fromZero) {
    int c0 = m * cols + j;
    DoubleVector s0 = start(c, c0, fromZero);
    DoubleVector s1 = start(c, c0 + LANES, fromZero);
    int aRow = m * aRowStride;
    for (int k = 0; k < depth; k++) {
      FloatVector v = FloatVector.fromArray(FLOATS, b, base + k * stride);
      DoubleVector x = DoubleVector.broadcast(DOUBLES, a[k * aDepthStride + aRow]);
      s0 = widen(v, 0).fma(x, s0);
      s1 = widen(v, 1).fma(x, s1);
    }
    s0.intoArray(c, c0);
    s1.intoArray(c, c0 + LANES);
  }

  @Override
  public String name() {
    return "vector";
  }
}
