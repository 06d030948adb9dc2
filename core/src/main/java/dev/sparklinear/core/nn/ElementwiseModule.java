package dev.sparklinear.core.nn;

import dev.sparklinear.core.kernel.Epilogue;

/**
 * A {@link RowwiseModule} that applies one function to each value: ReLU, GELU, SiLU, Sigmoid, Tanh. The function is
 * evaluated in double ({@link #activate64}) and rounded once to float32, so each output is the float nearest the exact
 * value of the function at the float32 input (or within a few units in the last place where the function itself is
 * approximated).
 *
 * <p>In a {@link Sequential}, an element-wise module that directly follows a {@link Linear}, with no hook between
 * them, runs inside the Linear's kernel as its {@link Epilogue}: the same function on the same float32 values, so the
 * same bits, in one pass.
 */
abstract class ElementwiseModule extends RowwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  final void forwardRows(float[] values, int rows, int cols, double[][] scratch) {
    epilogue().apply(values, 0, rows * cols);
  }

  @Override
  final void forwardRows64(double[] values, int rows, int cols) {
    for (int i = 0; i < rows * cols; i++) {
      values[i] = activate64(values[i]);
    }
  }

  /** The module's function over an array: what its own pass applies, and what a preceding Linear's kernel applies. */
  Epilogue epilogue() {
    return (values, from, to) -> {
      for (int i = from; i < to; i++) {
        values[i] = activate(values[i]);
      }
    };
  }

  /** The module's function at {@code x}, rounded once to float32. */
  float activate(float x) {
    return (float) activate64(x);
  }

  /** The module's function at {@code x}, in float64. */
  abstract double activate64(double x);

  /**
   * The function's derivative at {@code x}, in float64, where {@code y} is the output at {@code x}; each reads only
   * what {@link #savedForBackward()} asks for (the other is 0). The backward pass multiplies the gradient by it.
   */
  abstract double derivative(double x, double y);

  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    for (int i = 0; i < rows * cols; i++) {
      grad[i] *= derivative(input == null ? 0 : input[i], output == null ? 0 : output[i]);
    }
  }
}
