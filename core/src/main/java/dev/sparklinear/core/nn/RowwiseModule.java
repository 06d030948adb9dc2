package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * A module whose output has its input's shape and whose output row {@code r} depends on input row {@code r} only:
 * activations, LayerNorm, Softmax, BatchNorm1d in eval mode, Dropout in eval mode, Identity.
 *
 * <p>Each subclass writes its per-row math once, in float64 ({@link #forwardRows64}), and its backward in float64
 * ({@link #backwardRows}). {@code forward} takes one output block from the context ({@link CallContext#allocate}) and
 * runs {@link #forwardRows} over the input a chunk of rows at a time, through a heap array; the input is never
 * changed. By default {@code forwardRows} widens the chunk, runs {@code forwardRows64} and rounds each value once, so
 * the float32 output is the float64 function's value rounded, and a tape's float64 activations are the same function
 * unrounded.
 */
abstract class RowwiseModule extends Module {
  private static final long serialVersionUID = 1L;

  @Override
  protected final FloatBlock forward(FloatBlock input, CallContext context) {
    checkInput(input);
    double[][] scratch = new double[1][]; // one float64 chunk for the whole block, made on first use
    return context.allocateAndWrite(input.rows(), input.cols(), output ->
        input.mapRows(output, (values, rows, cols, firstRow) -> {
          forwardRows(values, rows, cols, scratch);
          return true;
        }));
  }

  /** Refuses an input this module cannot run on (a width that does not fit, a mode not supported); by default none. */
  void checkInput(FloatBlock input) {}

  /**
   * Replaces {@code rows} rows of {@code cols} values, row-major at the start of {@code values}, by the outputs: by
   * default {@link #forwardRows64} on their float64 values, each output rounded once.
   *
   * @param scratch holds a float64 array this method may use (and replace by a larger one) across the chunks of a block
   */
  void forwardRows(float[] values, int rows, int cols, double[][] scratch) {
    int n = rows * cols;
    if (scratch[0] == null || scratch[0].length < n) {
      scratch[0] = new double[n];
    }
    double[] wide = scratch[0];
    for (int i = 0; i < n; i++) {
      wide[i] = values[i];
    }
    forwardRows64(wide, rows, cols);
    for (int i = 0; i < n; i++) {
      values[i] = (float) wide[i];
    }
  }

  /** The module's function in float64: replaces {@code rows} rows of {@code cols} values by the outputs. */
  abstract void forwardRows64(double[] values, int rows, int cols);

  @Override
  final Float64Block forward64(Float64Block input) {
    Float64Block output = input.copy();
    forwardRows64(output.values(), output.rows(), output.cols());
    return output;
  }

  /** What {@link #backwardRows} reads: {@link #SAVES_INPUT} and/or {@link #SAVES_OUTPUT}, or 0. */
  @Override
  abstract int savedForBackward();

  /**
   * The backward of {@code rows} rows, in float64: replaces {@code grad} (the gradient with respect to the outputs) by
   * the gradient with respect to the inputs, and adds the parameter gradients into {@code weightGrad} and
   * {@code biasGrad} where those are not null (one value per column).
   *
   * @param input the float64 inputs, or null when not in {@link #savedForBackward()}
   * @param output the float64 outputs, or null when not in {@link #savedForBackward()}
   */
  abstract void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad);

  @Override
  final Float64Block backward(Float64Block input, Float64Block output, Float64Block gradOutput,
      boolean inputNeedsGrad, GradientSink gradients) {
    Parameter weight = gradients != null ? requiringGrad("weight") : null;
    Parameter bias = gradients != null ? requiringGrad("bias") : null;
    if (!inputNeedsGrad && weight == null && bias == null) {
      return null;
    }
    double[] weightGrad = weight == null ? null : gradients.sumFor(weight);
    double[] biasGrad = bias == null ? null : gradients.sumFor(bias);
    Float64Block grad = gradOutput.copy();
    backwardRows(input == null ? null : input.values(), output == null ? null : output.values(), grad.values(),
        grad.rows(), grad.cols(), weightGrad, biasGrad);
    if (weight != null) {
      gradients.added(weight, weightGrad);
    }
    if (bias != null) {
      gradients.added(bias, biasGrad);
    }
    return inputNeedsGrad ? grad : null;
  }

  private Parameter requiringGrad(String name) {
    Parameter parameter = parameter(name);
    return parameter != null && parameter.requiresGrad() ? parameter : null;
  }
}
