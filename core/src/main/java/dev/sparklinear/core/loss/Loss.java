package dev.sparklinear.core.loss;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A loss function of a block of model outputs ({@code [n, C]}) against targets of type {@code T}, after PyTorch's
 * {@code torch.nn} losses. Values are computed and summed in double; gradients are computed in double and written
 * as float32.
 *
 * <pre>{@code
 * CrossEntropyLoss loss = new CrossEntropyLoss();
 * double value = loss.forward(logits, labels);                 // F.cross_entropy(logits, labels)
 * try (FloatBlock grad = loss.backward(logits, labels)) { ... } // d value / d logits
 * }</pre>
 *
 * <p><b>Over several machines.</b> {@link #sumAndGradient} gives a block's {@link LossSum} (the sum and the count
 * the mean divides by) and writes the gradient of the sum, scaled by a factor the caller chooses. A distributed fit
 * uses factor 1 on each partition, adds the partitions' loss sums and parameter gradients, and divides both by the
 * global {@link LossSum#totalWeight()}: the mean over all rows, equal to the mean one machine would compute over the
 * same rows.
 *
 * <p>Losses hold only their options and are immutable: one instance can be shared by tasks and broadcast.
 */
public abstract class Loss<T> implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Reduction reduction;

  protected Loss(Reduction reduction) {
    this.reduction = Objects.requireNonNull(reduction, "reduction");
  }

  public final Reduction reduction() {
    return reduction;
  }

  /** The loss of {@code output} against {@code target} under this loss's reduction, as torch's {@code forward}. */
  public final double forward(FloatBlock output, T target) {
    return sum(output, target).reduce(reduction);
  }

  /** The block's loss sum and the count its mean divides by, without a gradient. */
  public final LossSum sum(FloatBlock output, T target) {
    checkInputs(output, target);
    return compute(output, target, 0, null);
  }

  /**
   * The gradient of {@link #forward} with respect to {@code output}, as {@code output.grad} after
   * {@code loss.backward()}: a new block from {@code output}'s allocator, which the caller closes.
   */
  public final FloatBlock backward(FloatBlock output, T target) {
    checkInputs(output, target);
    double scale = reduction == Reduction.SUM ? 1 : 1 / totalWeight(output, target);
    return FloatBlock.allocateAndWrite(
        output.allocator(), output.rows(), output.cols(), gradient -> compute(output, target, scale, gradient));
  }

  /**
   * The block's loss sum, and {@code scale} times the gradient of that sum with respect to {@code output} written
   * into {@code gradient} (a block of {@code output}'s size), in one pass. With {@code scale = 1 / totalWeight} of
   * the whole data set this is the gradient of the mean; see the class comment for its use across partitions.
   */
  public final LossSum sumAndGradient(FloatBlock output, T target, double scale, FloatBlock gradient) {
    checkInputs(output, target);
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.rows() != output.rows() || gradient.cols() != output.cols()) {
      throw new IllegalArgumentException("Cannot write the gradient of a " + output.rows() + "x" + output.cols()
          + " output into a " + gradient.rows() + "x" + gradient.cols() + " block");
    }
    return compute(output, target, scale, gradient);
  }

  private void checkInputs(FloatBlock output, T target) {
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(target, "target");
    checkTarget(output, target);
  }

  /** Throws, with torch's message where it has one, when {@code target} or an option does not fit {@code output}. */
  protected abstract void checkTarget(FloatBlock output, T target);

  /**
   * The count the mean divides by, for {@link #backward}; see {@link LossSum#totalWeight()}. Every element of the
   * output, unless a loss weighs its rows.
   */
  protected double totalWeight(FloatBlock output, T target) {
    return (double) output.rows() * output.cols();
  }

  /**
   * Computes the block's {@link LossSum} and, when {@code gradient} is not null, writes {@code scale} times the
   * gradient of the sum into it. Inputs are checked.
   */
  protected abstract LossSum compute(FloatBlock output, T target, double scale, FloatBlock gradient);

  /** About this many output values are copied to the heap at a time (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  /** One chunk of rows of the output, and where to put their gradient. */
  @FunctionalInterface
  interface ChunkFunction {
    /**
     * Computes the loss sum of {@code rows} rows of {@code cols} values ({@code output}, row-major, rows
     * {@code firstRow ..} of the block) and, when {@code gradient} is not null, writes their gradient into it.
     */
    double apply(float[] output, int rows, int cols, int firstRow, float[] gradient);
  }

  /** A chunk of rows of the output beside the same rows of a target block of the output's size. */
  @FunctionalInterface
  interface ElementwiseFunction {
    /** As {@link ChunkFunction#apply}, with {@code target} holding the target's values of the chunk's rows. */
    double apply(float[] output, float[] target, int rows, int cols, float[] gradient);
  }

  /** Runs {@code function} over {@code output} and {@code target} (of the same size) a chunk of rows at a time. */
  static double sumChunks(FloatBlock output, FloatBlock target, FloatBlock gradient, ElementwiseFunction function) {
    return sumChunks(output, gradient, (values, rows, cols, firstRow, grads) -> {
      float[] targets = new float[rows * cols];
      target.readRows(firstRow, rows, targets, 0);
      return function.apply(values, targets, rows, cols, grads);
    });
  }

  /** Runs {@code function} over {@code output} a chunk of rows at a time; returns the sum of the chunks' sums. */
  static double sumChunks(FloatBlock output, FloatBlock gradient, ChunkFunction function) {
    int rows = output.rows();
    int cols = output.cols();
    int chunkRows = Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, cols)));
    float[] values = new float[chunkRows * cols];
    float[] grads = gradient == null ? null : new float[values.length];
    double sum = 0;
    for (int first = 0; first < rows; first += chunkRows) {
      int count = Math.min(chunkRows, rows - first);
      output.readRows(first, count, values, 0);
      sum += function.apply(values, count, cols, first, grads);
      if (gradient != null) {
        gradient.writeRows(first, count, grads, 0);
      }
    }
    return sum;
  }

  /** The message torch gives for a target block of another shape than the output. */
  static void checkSameSize(FloatBlock output, FloatBlock target) {
    if (target.rows() != output.rows() || target.cols() != output.cols()) {
      throw new IllegalArgumentException("Target size (" + Tensor.formatShape(target.rows(), target.cols())
          + ") must be the same as input size (" + Tensor.formatShape(output.rows(), output.cols()) + ")");
    }
  }

  /** A per-column option ({@code pos_weight}, {@code weight}) must have one value per output column. */
  static void checkPerColumn(String option, float[] values, FloatBlock output) {
    if (values != null && values.length != output.cols()) {
      throw new IllegalArgumentException(option + " of shape " + Tensor.formatShape(values.length)
          + " does not match the output's " + output.cols() + " columns: give one value per column");
    }
  }

  /** {@code values}' extra repr part ({@code ", pos_weight=[...]"}), empty when null. */
  static String optionRepr(String name, float[] values) {
    return values == null ? "" : ", " + name + "=" + Arrays.toString(values);
  }
}
