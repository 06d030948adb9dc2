package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Batch normalization of each feature, as PyTorch's {@code nn.BatchNorm1d(num_features)} on {@code [n, features]}
 * input, in evaluation mode: {@code y = (x - running_mean) / sqrt(running_var + eps) * weight + bias}, per feature,
 * computed in double and rounded once.
 *
 * <ul>
 *   <li>parameters {@code weight} (ones) and {@code bias} (zeros), {@code [num_features]}, when {@code affine};
 *   <li>persistent buffers {@code running_mean} (zeros), {@code running_var} (ones), {@code [num_features]}, and
 *       {@code num_batches_tracked}, an int64 scalar (0), when {@code track_running_stats}; all are in the state dict
 *       under these names, in this order, as PyTorch saves them.
 * </ul>
 *
 * <p>Only evaluation mode is supported (call {@link #eval()}, as for inference in PyTorch): training mode, which
 * normalizes with each batch's own statistics and updates the running ones, throws
 * {@link UnsupportedOperationException}, and so does a layer built with {@code track_running_stats = false}, which
 * normalizes with each batch's statistics even in evaluation mode. In a Spark job a batch is a block, whose bounds
 * depend on the partitioning, so batch statistics would make results depend on it.
 */
public class BatchNorm1d extends Normalization {
  private static final long serialVersionUID = 1L;

  private final int numFeatures;
  /** Null for PyTorch's {@code momentum=None} (a cumulative average). */
  private final Double momentum;
  private final boolean affine;
  private final boolean trackRunningStats;

  /** {@code eps = 1e-5}, {@code momentum = 0.1}, affine, tracking running statistics: PyTorch's defaults. */
  public BatchNorm1d(int numFeatures) {
    this(numFeatures, 1e-5, 0.1, true, true);
  }

  /**
   * @param numFeatures the number of features of each row
   * @param eps added to the variance, inside the square root
   * @param momentum the running statistics' update factor in training mode, or null for a cumulative average; kept
   *     for the repr and for round trips, since training mode is not supported yet
   * @param affine whether the layer has a weight and a bias
   * @param trackRunningStats whether the layer has running statistics (needed for evaluation mode here)
   */
  public BatchNorm1d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(eps);
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("Invalid num_features: " + numFeatures + " (must be > 0)");
    }
    this.numFeatures = numFeatures;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    if (affine) {
      registerAffine(numFeatures, true);
    }
    if (trackRunningStats) {
      registerBuffer("running_mean", Tensor.wrap(new float[numFeatures], numFeatures), true);
      registerBuffer("running_var", Tensor.wrap(ones(numFeatures), numFeatures), true);
      registerBuffer("num_batches_tracked", Tensor.ofLong(0), true);
    }
  }

  public final int numFeatures() {
    return numFeatures;
  }

  /** The running statistics' update factor; empty for PyTorch's {@code momentum=None} (a cumulative average). */
  public final OptionalDouble momentum() {
    return momentum == null ? OptionalDouble.empty() : OptionalDouble.of(momentum);
  }

  /** Whether the layer has a weight and a bias, PyTorch's {@code affine}. */
  public final boolean affine() {
    return affine;
  }

  /** Whether the layer has running statistics, PyTorch's {@code track_running_stats}. */
  public final boolean trackRunningStats() {
    return trackRunningStats;
  }

  /** {@code running_mean}, {@code [num_features]}; empty without {@code track_running_stats}. */
  public final Optional<Tensor> runningMean() {
    return Optional.ofNullable(buffer("running_mean"));
  }

  /** {@code running_var}, {@code [num_features]}; empty without {@code track_running_stats}. */
  public final Optional<Tensor> runningVar() {
    return Optional.ofNullable(buffer("running_var"));
  }

  /** {@code num_batches_tracked}; 0 without {@code track_running_stats}. */
  public final long numBatchesTracked() {
    Tensor count = buffer("num_batches_tracked");
    return count == null ? 0 : count.getLong(0);
  }

  /**
   * @throws UnsupportedOperationException in training mode, or without running statistics
   * @throws IllegalArgumentException worded as PyTorch's, when the input's width is not {@code num_features}
   */
  @Override
  void checkInput(FloatBlock input) {
    if (!trackRunningStats) {
      throw new UnsupportedOperationException("BatchNorm1d with track_running_stats=False normalizes each batch with"
          + " its own statistics, which is not supported yet; use a layer with running statistics");
    }
    if (isTraining()) {
      throw new UnsupportedOperationException("BatchNorm1d in training mode is not supported yet; call eval()");
    }
    if (input.cols() != numFeatures) {
      throw new IllegalArgumentException(
          "running_mean should contain " + input.cols() + " elements not " + numFeatures);
    }
  }

  @Override
  void forwardRows64(double[] values, int rows, int cols) {
    Tensor mean = buffer("running_mean");
    Tensor weight = parameter("weight");
    Tensor bias = parameter("bias");
    double[] inverseStd = inverseStd(cols);
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      for (int c = 0; c < cols; c++) {
        double y = (values[start + c] - (double) mean.get(c)) * inverseStd[c];
        values[start + c] = weight == null ? y : y * weight.get(c) + bias.get(c);
      }
    }
  }

  /** {@code 1 / sqrt(running_var + eps)} per feature, in float64. */
  private double[] inverseStd(int cols) {
    Tensor var = buffer("running_var");
    double[] inverseStd = new double[cols];
    for (int c = 0; c < cols; c++) {
      inverseStd[c] = 1 / Math.sqrt(var.get(c) + eps());
    }
    return inverseStd;
  }

  /** The input, for the weight's gradient; nothing without an affine map. */
  @Override
  int savedForBackward() {
    return affine ? SAVES_INPUT : 0;
  }

  /**
   * Evaluation mode's backward, with the running statistics as constants: {@code dx = g w / sqrt(var + eps)},
   * {@code dweight += g (x - mean) / sqrt(var + eps)}, {@code dbias += g}, in float64.
   */
  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    Tensor mean = buffer("running_mean");
    Tensor weight = parameter("weight");
    double[] inverseStd = inverseStd(cols);
    for (int r = 0; r < rows; r++) {
      int start = r * cols;
      for (int c = 0; c < cols; c++) {
        double g = grad[start + c];
        if (weightGrad != null) {
          weightGrad[c] += g * (input[start + c] - (double) mean.get(c)) * inverseStd[c];
        }
        if (biasGrad != null) {
          biasGrad[c] += g;
        }
        grad[start + c] = g * inverseStd[c] * (weight == null ? 1 : weight.get(c));
      }
    }
  }

  @Override
  protected String extraRepr() {
    return numFeatures + ", eps=" + TorchRepr.number(eps()) + ", momentum="
        + (momentum == null ? "None" : TorchRepr.number(momentum)) + ", affine=" + TorchRepr.bool(affine)
        + ", track_running_stats=" + TorchRepr.bool(trackRunningStats);
  }
}
