package dev.sparklinear.core.nn;

import java.util.OptionalInt;

/**
 * Softmax over each row (the last dimension), as PyTorch's {@code nn.Softmax(dim=-1)}:
 * {@code exp(x_i - max) / sum_j exp(x_j - max)}, computed in double and rounded once. Subtracting the row's maximum
 * keeps {@code exp} from overflowing, so rows of large values work; a row holding NaN or {@code +inf}, or only
 * {@code -inf}, comes out NaN, as in PyTorch.
 *
 * <p>Blocks are {@code [rows, features]}, so the last dimension is {@code dim = -1} or {@code dim = 1}; {@code new
 * Softmax()} is PyTorch's {@code Softmax()} without {@code dim}, which picks dimension 1 for 2-D input (and prints
 * {@code Softmax(dim=None)}).
 */
public class Softmax extends RowwiseModule {
  private static final long serialVersionUID = 1L;

  /** The dimension as given, or null for PyTorch's implicit choice. */
  private final Integer dim;

  /** PyTorch's {@code Softmax()}: the implicit dimension, which is the last one for a block. */
  public Softmax() {
    this.dim = null;
  }

  /**
   * @param dim {@code -1} or {@code 1}: the features of each row
   * @throws IllegalArgumentException for {@code 0} or {@code -2} (across rows, which would mix the rows of a block),
   *     and, worded as PyTorch's, for a dimension that a 2-D block does not have
   */
  public Softmax(int dim) {
    if (dim < -2 || dim > 1) {
      throw new IllegalArgumentException(
          "Dimension out of range (expected to be in range of [-2, 1], but got " + dim + ")");
    }
    if (dim == 0 || dim == -2) {
      throw new IllegalArgumentException("Softmax over dim=" + dim + " runs across the rows of a block, which is not"
          + " supported: blocks are [rows, features]; use dim=-1 (or 1) for a softmax over each row's features");
    }
    this.dim = dim;
  }

  /** The dimension given, {@code -1} or {@code 1}; empty for PyTorch's implicit choice ({@code dim=None}). */
  public final OptionalInt dim() {
    return dim == null ? OptionalInt.empty() : OptionalInt.of(dim);
  }

  @Override
  void forwardRows(float[] values, int rows, int cols, double[][] scratch) {
    softmaxRows(values, rows, cols);
  }

  @Override
  void forwardRows64(double[] values, int rows, int cols) {
    double[] exps = new double[cols];
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      double sum = exponentials(values, start, cols, exps);
      for (int i = 0; i < cols; i++) {
        values[start + i] = exps[i] / sum;
      }
    }
  }

  /**
   * The per-row math in float32, shared with the {@code softmax} block hook: each row's softmax in double, rounded
   * once. Each {@code exp} is evaluated once: the row's exponentials are kept between the sum and the division, which
   * is where the time goes.
   */
  public static void softmaxRows(float[] values, int rows, int cols) {
    double[] exps = new double[cols];
    double[] row = new double[cols];
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      for (int i = 0; i < cols; i++) {
        row[i] = values[start + i];
      }
      double sum = exponentials(row, 0, cols, exps);
      for (int i = 0; i < cols; i++) {
        values[start + i] = (float) (exps[i] / sum);
      }
    }
  }

  /** {@code exp(x_i - max_j x_j)} of one row into {@code exps}, in double; returns their sum. */
  private static double exponentials(double[] values, int start, int cols, double[] exps) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = start; i < start + cols; i++) {
      // Not Math.max: a NaN must not be skipped, and it propagates through the subtraction below.
      max = values[i] > max || Double.isNaN(values[i]) ? values[i] : max;
    }
    double sum = 0;
    for (int i = 0; i < cols; i++) {
      double e = Math.exp(values[start + i] - max);
      exps[i] = e;
      sum += e;
    }
    return sum;
  }

  /** The output, as torch's {@code softmax_backward_data} reads: the tape's float64 output. */
  @Override
  int savedForBackward() {
    return SAVES_OUTPUT;
  }

  /** {@code dx_i = y_i (g_i - sum_j g_j y_j)} per row, as torch's {@code softmax_backward_data}, in float64. */
  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      double dot = 0;
      for (int i = 0; i < cols; i++) {
        dot += grad[start + i] * output[start + i];
      }
      for (int i = 0; i < cols; i++) {
        grad[start + i] = output[start + i] * (grad[start + i] - dot);
      }
    }
  }

  @Override
  protected String extraRepr() {
    return "dim=" + (dim == null ? "None" : dim);
  }
}
