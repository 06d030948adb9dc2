package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/** A block hook that applies one function to each value: the activations, which differ only in that function. */
abstract class ElementwiseHook extends BlockHook {
  private static final long serialVersionUID = 1L;

  @Override
  protected final boolean transformRows(
      float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      values[i] = activate(values[i]);
    }
    return true;
  }

  /** The hook's function at {@code x}. */
  abstract float activate(float x);

  /** The class name and empty parentheses, as {@code Relu()}. */
  @Override
  public String toString() {
    return getClass().getSimpleName() + "()";
  }
}
