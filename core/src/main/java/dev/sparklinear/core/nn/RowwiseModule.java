package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A module whose output has its input's shape and whose output row {@code r} depends on input row {@code r} only:
 * activations, LayerNorm, Softmax, BatchNorm1d in eval mode, Dropout in eval mode, Identity.
 *
 * <p>{@code forward} takes one output block from the context ({@link CallContext#allocate}) and runs {@link #forwardRows} over the input
 * a chunk of rows at a time, through a heap array; the input is never changed. Each subclass keeps its per-row math
 * in {@code forwardRows} (or the scalar function it calls), and its backward in {@link #backwardRows}, which a
 * backward pass runs the same way, a chunk of rows at a time, on the blocks the subclass asked the tape to keep.
 */
abstract class RowwiseModule extends Module {
  private static final long serialVersionUID = 1L;

  /** About this many floats per block are copied to the heap at a time in a backward pass (at least one row). */
  private static final int CHUNK_VALUES = 16 * 1024;

  @Override
  protected final FloatBlock forward(FloatBlock input, CallContext context) {
    checkInput(input);
    return context.allocateAndWrite(input.rows(), input.cols(), output ->
        input.mapRows(output, (values, rows, cols, firstRow) -> {
          forwardRows(values, rows, cols);
          return true;
        }));
  }

  /** Refuses an input this module cannot run on (a width that does not fit, a mode not supported); by default none. */
  void checkInput(FloatBlock input) {}

  /** Replaces {@code rows} rows of {@code cols} values, row-major at the start of {@code values}, by the outputs. */
  abstract void forwardRows(float[] values, int rows, int cols);

  /** What {@link #backwardRows} reads: {@link #SAVES_INPUT} and/or {@link #SAVES_OUTPUT}, or 0. */
  @Override
  abstract int savedForBackward();

  /**
   * The backward of {@code rows} rows: replaces {@code grad} (the gradient with respect to the outputs) by the gradient
   * with respect to the inputs, and adds this chunk's parameter gradients into {@code weightGrad} and
   * {@code biasGrad} where those are not null (one value per column, in float64).
   *
   * @param input the chunk's inputs, or null when not in {@link #savedForBackward()}
   * @param output the chunk's outputs, or null when not in {@link #savedForBackward()}
   */
  abstract void backwardRows(float[] input, float[] output, float[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad);

  @Override
  final FloatBlock backward(FloatBlock input, FloatBlock output, FloatBlock gradOutput, boolean inputNeedsGrad,
      GradientSink gradients, BufferAllocator allocator) {
    Parameter weight = gradients != null ? requiringGrad("weight") : null;
    Parameter bias = gradients != null ? requiringGrad("bias") : null;
    if (!inputNeedsGrad && weight == null && bias == null) {
      return null;
    }
    int rows = gradOutput.rows();
    int cols = gradOutput.cols();
    double[] weightGrad = weight == null ? null : gradients.sumFor(weight);
    double[] biasGrad = bias == null ? null : gradients.sumFor(bias);
    FloatBlock gradInput = inputNeedsGrad ? FloatBlock.allocateUninitialized(allocator, rows, cols) : null;
    try {
      int chunk = Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, cols)));
      float[] grad = new float[chunk * cols];
      float[] x = input == null ? null : new float[chunk * cols];
      float[] y = output == null ? null : new float[chunk * cols];
      for (int first = 0; first < rows; first += chunk) {
        int count = Math.min(chunk, rows - first);
        gradOutput.readRows(first, count, grad, 0);
        if (x != null) {
          input.readRows(first, count, x, 0);
        }
        if (y != null) {
          output.readRows(first, count, y, 0);
        }
        backwardRows(x, y, grad, count, cols, weightGrad, biasGrad);
        if (gradInput != null) {
          gradInput.writeRows(first, count, grad, 0);
        }
      }
    } catch (RuntimeException | Error e) {
      if (gradInput != null) {
        gradInput.close();
      }
      throw e;
    }
    if (weight != null) {
      gradients.added(weight, weightGrad);
    }
    if (bias != null) {
      gradients.added(bias, biasGrad);
    }
    return gradInput;
  }

  private Parameter requiringGrad(String name) {
    Parameter parameter = parameter(name);
    return parameter != null && parameter.requiresGrad() ? parameter : null;
  }
}
