package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * A module whose output has its input's shape and whose output row {@code r} depends on input row {@code r} only:
 * activations, LayerNorm, Softmax, BatchNorm1d in eval mode, Dropout in eval mode, Identity.
 *
 * <p>{@code forward} takes one output block from the context ({@link CallContext#allocate}) and runs {@link #forwardRows} over the input
 * a chunk of rows at a time, through a heap array; the input is never changed. Each subclass keeps its per-row math
 * in {@code forwardRows} (or the scalar function it calls), the one place a backward pass will mirror.
 */
abstract class RowwiseModule extends Module {
  private static final long serialVersionUID = 1L;

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
}
