package dev.sparklinear.core.nn;

/**
 * A {@link RowwiseModule} that applies one function to each value: ReLU, GELU, SiLU, Sigmoid, Tanh. The function is
 * evaluated in double and rounded once to float32, so each output is the float nearest the exact value of the
 * function at the float32 input (or within a few units in the last place where the function itself is approximated).
 */
abstract class ElementwiseModule extends RowwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  final void forwardRows(float[] values, int rows, int cols) {
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      values[i] = activate(values[i]);
    }
  }

  /** The module's function at {@code x}. */
  abstract float activate(float x);
}
