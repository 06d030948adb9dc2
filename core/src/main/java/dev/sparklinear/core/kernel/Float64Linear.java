package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;

/**
 * A Linear layer's products in float64, for a backward pass: the forward {@code y = x W^T + b} that a gradient tape
 * records alongside the float32 one, and the backward {@code dW = dY^T X} ({@code [out, in]}), {@code db = sum_r
 * dY[r, :]} ({@code [out]}) and {@code dX = dY W} ({@code [n, in]}). Blocks are row-major heap arrays of float64.
 *
 * <p>Why float64: a tape keeps float64 values of every activation and lets gradients flow between modules in float64,
 * so that the only roundings of a backward pass are the last ones, of each gradient to float32. torch's float32 pass
 * rounds every activation and every partial sum of its GEMMs, and our gradients are held to be no worse than its. The
 * forward kernels that produce the blocks a caller sees stay float32.
 *
 * <p>The products run on the Vector API {@link Float64Kernel} where {@link LinearKernels#vectorKernelAvailable()}
 * (and the system property {@value LinearKernels#KERNEL_PROPERTY} does not ask for {@code scalar}), else on the
 * scalar one; both add each value's terms in the same order with fused multiply-adds and give the same bits.
 */
public final class Float64Linear {
  /** About this many values of the wider side are taken per chunk of rows (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  private static final Float64Kernel KERNEL = LinearKernels.vectorKernelAvailable()
      && LinearKernels.Choice.fromSystemProperty() != LinearKernels.Choice.SCALAR
      ? vectorKernel()
      : new ScalarFloat64Kernel();

  private Float64Linear() {}

  private static Float64Kernel vectorKernel() {
    try {
      return (Float64Kernel) Class.forName(Float64Linear.class.getPackageName() + ".VectorFloat64Kernel")
          .getDeclaredConstructor()
          .newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return new ScalarFloat64Kernel();
    }
  }

  /** {@code "vector"} or {@code "scalar"}: which kernel the methods here run in this JVM. */
  public static String kernelName() {
    return KERNEL.name();
  }

  /**
   * {@code x W^T + b} for {@code input} {@code [rows, in]}, {@code weight} {@code [out, in]} and {@code bias}
   * {@code [out]} (or null): each value's products summed over the inputs in order, then the bias added.
   *
   * @throws IllegalArgumentException when the shapes do not fit
   */
  public static double[] forward(double[] input, int rows, Tensor weight, Tensor bias) {
    return forward(input, rows, weight, bias, KERNEL);
  }

  /**
   * As {@link #forward(double[], int, Tensor, Tensor)} for float32 inputs, widened a chunk of rows at a time: the same
   * bits as the float64 form given their float64 values.
   */
  public static double[] forward(float[] input, int rows, Tensor weight, Tensor bias) {
    return forward(input, rows, weight, bias, KERNEL);
  }

  static double[] forward(double[] input, int rows, Tensor weight, Tensor bias, Float64Kernel kernel) {
    checkLength("input", input.length, (long) rows * weight.size(1));
    return forward(Rows.of(input), rows, weight, bias, kernel);
  }

  static double[] forward(float[] input, int rows, Tensor weight, Tensor bias, Float64Kernel kernel) {
    checkLength("input", input.length, (long) rows * weight.size(1));
    return forward(Rows.of(input), rows, weight, bias, kernel);
  }

  private static double[] forward(Rows input, int rows, Tensor weight, Tensor bias, Float64Kernel kernel) {
    int out = weight.size(0);
    int in = weight.size(1);
    double[] y = new double[rows * out];
    if (rows == 0 || out == 0) {
      return y;
    }
    // y[r, o] = sum_i x[r, i] * w[o, i]: A = x read as [i][r], the depth being the inputs; B = W^T, [in, out].
    double[] packed = kernel.pack(transpose(weight, out, in), in, out);
    int chunk = chunkRows(rows, Math.max(in, out));
    double[] x = input.direct();
    double[] scratch = x == null ? new double[chunk * in] : null;
    for (int first = 0; first < rows; first += chunk) {
      int count = Math.min(chunk, rows - first);
      if (x != null) {
        kernel.addProducts(x, first * in, 1, in, packed, true, in, count, out, y, first * out, true);
      } else {
        input.copy(first * in, count * in, scratch, kernel);
        kernel.addProducts(scratch, 0, 1, in, packed, true, in, count, out, y, first * out, true);
      }
    }
    if (bias != null) {
      float[] b = bias.toArray();
      for (int r = 0; r < rows; r++) {
        for (int o = 0; o < out; o++) {
          y[r * out + o] += b[o];
        }
      }
    }
    return y;
  }

  /**
   * Adds {@code dY^T X} into {@code sum}, row-major {@code [out, in]}, for {@code gradOutput} {@code [rows, out]} and
   * {@code input} {@code [rows, in]}: each value's products in row order, onto the value it had.
   *
   * @throws IllegalArgumentException when an array does not have its shape's length
   */
  public static void addWeightGradient(double[] gradOutput, double[] input, int rows, int out, int in, double[] sum) {
    addWeightGradient(gradOutput, input, rows, out, in, sum, KERNEL);
  }

  /**
   * As {@link #addWeightGradient(double[], double[], int, int, int, double[])} for float32 inputs, widened a chunk of
   * rows at a time: the same bits as the float64 form given their float64 values.
   */
  public static void addWeightGradient(double[] gradOutput, float[] input, int rows, int out, int in, double[] sum) {
    addWeightGradient(gradOutput, input, rows, out, in, sum, KERNEL);
  }

  static void addWeightGradient(double[] gradOutput, double[] input, int rows, int out, int in, double[] sum,
      Float64Kernel kernel) {
    checkLength("input", input.length, (long) rows * in);
    addWeightGradient(gradOutput, Rows.of(input), rows, out, in, sum, kernel);
  }

  static void addWeightGradient(double[] gradOutput, float[] input, int rows, int out, int in, double[] sum,
      Float64Kernel kernel) {
    checkLength("input", input.length, (long) rows * in);
    addWeightGradient(gradOutput, Rows.of(input), rows, out, in, sum, kernel);
  }

  private static void addWeightGradient(double[] gradOutput, Rows input, int rows, int out, int in, double[] sum,
      Float64Kernel kernel) {
    checkLength("gradient", gradOutput, (long) rows * out);
    checkLength("weight gradient", sum, (long) out * in);
    if (rows == 0 || out == 0 || in == 0) {
      return;
    }
    // A chunk of rows of x stays in L2 while every tile of outputs reads it.
    int chunk = chunkRows(rows, Math.max(in, out));
    if (chunk == rows && input.direct() != null) {
      kernel.addProducts(gradOutput, 0, out, 1, input.direct(), false, rows, out, in, sum, 0, false);
      return;
    }
    double[] g = new double[chunk * out];
    double[] x = new double[chunk * in];
    for (int first = 0; first < rows; first += chunk) {
      int count = Math.min(chunk, rows - first);
      System.arraycopy(gradOutput, first * out, g, 0, count * out);
      input.copy(first * in, count * in, x, kernel);
      // sum[o, i] += sum_r g[r, o] * x[r, i]: A = g read as [r][o], the depth being the chunk's rows.
      kernel.addProducts(g, 0, out, 1, x, false, count, out, in, sum, 0, false);
    }
  }

  /**
   * Adds {@code sum_r dY[r, :]} into {@code sum} ({@code [out]}): each value's terms in row order, onto the value it
   * had.
   */
  public static void addBiasGradient(double[] gradOutput, int rows, int out, double[] sum) {
    checkLength("gradient", gradOutput, (long) rows * out);
    checkLength("bias gradient", sum, out);
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        sum[o] += gradOutput[r * out + o];
      }
    }
  }

  /**
   * {@code dY W} ({@code [rows, in]}) for {@code gradOutput} {@code [rows, out]} and {@code weight} {@code [out, in]}:
   * each value summed over the outputs in order.
   *
   * @throws IllegalArgumentException when the shapes do not fit
   */
  public static double[] inputGradient(double[] gradOutput, int rows, Tensor weight) {
    return inputGradient(gradOutput, rows, weight, KERNEL);
  }

  static double[] inputGradient(double[] gradOutput, int rows, Tensor weight, Float64Kernel kernel) {
    int out = weight.size(0);
    int in = weight.size(1);
    checkLength("gradient", gradOutput, (long) rows * out);
    double[] dx = new double[rows * in];
    if (rows == 0 || in == 0) {
      return dx;
    }
    // dX[r, i] = sum_o g[r, o] * w[o, i]: A = g read as [o][r], the depth being the outputs.
    double[] packed = kernel.pack(widen(weight.toArray()), out, in);
    int chunk = chunkRows(rows, Math.max(in, out));
    for (int first = 0; first < rows; first += chunk) {
      int count = Math.min(chunk, rows - first);
      kernel.addProducts(gradOutput, first * out, 1, out, packed, true, out, count, in, dx, first * in, true);
    }
    return dx;
  }

  /** Rows per chunk: about {@link #CHUNK_VALUES} values of the wider side, so that a chunk stays in L2. */
  private static int chunkRows(int rows, int width) {
    return Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, width)));
  }

  private static double[] widen(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  /** {@code weight} ({@code [out, in]}) transposed to {@code [in, out]}, in float64. */
  private static double[] transpose(Tensor weight, int out, int in) {
    float[] w = weight.toArray();
    double[] t = new double[in * out];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        t[i * out + o] = w[o * in + i];
      }
    }
    return t;
  }

  private static void checkLength(String what, double[] values, long expected) {
    checkLength(what, values.length, expected);
  }

  private static void checkLength(String what, int length, long expected) {
    if (length != expected) {
      throw new IllegalArgumentException("The " + what + " must hold " + expected + " values, not " + length);
    }
  }

  /** A block's values, float64 or float32, copied into float64 a chunk at a time. */
  private interface Rows {
    /** Copies {@code count} values from {@code from} into the start of {@code into}, as float64. */
    void copy(int from, int count, double[] into, Float64Kernel kernel);

    /** The float64 array itself, when the values are one; else null. */
    double[] direct();

    static Rows of(double[] values) {
      return new Rows() {
        @Override
        public void copy(int from, int count, double[] into, Float64Kernel kernel) {
          System.arraycopy(values, from, into, 0, count);
        }

        @Override
        public double[] direct() {
          return values;
        }
      };
    }

    static Rows of(float[] values) {
      return new Rows() {
        @Override
        public void copy(int from, int count, double[] into, Float64Kernel kernel) {
          kernel.widen(values, from, count, into);
        }

        @Override
        public double[] direct() {
          return null;
        }
      };
    }
  }
}
