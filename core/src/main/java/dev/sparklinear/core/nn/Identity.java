package dev.sparklinear.core.nn;

/**
 * Returns its input unchanged, as PyTorch's {@code nn.Identity}: a placeholder, for example where a head's layer is
 * switched off. The output is a copy in a new block (taken from the context's allocator), so that the caller owns
 * what {@code call} returns, as with every module.
 */
public class Identity extends RowwiseModule {
  private static final long serialVersionUID = 1L;

  @Override
  void forwardRows(float[] values, int rows, int cols, double[][] scratch) {
    // The values pass unchanged.
  }

  @Override
  void forwardRows64(double[] values, int rows, int cols) {
    // The values pass unchanged.
  }

  @Override
  int savedForBackward() {
    return 0;
  }

  @Override
  void backwardRows(double[] input, double[] output, double[] grad, int rows, int cols, double[] weightGrad,
      double[] biasGrad) {
    // The gradient passes unchanged.
  }
}
