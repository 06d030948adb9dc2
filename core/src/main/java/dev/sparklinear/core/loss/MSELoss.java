package dev.sparklinear.core.loss;

import dev.sparklinear.core.block.FloatBlock;

/**
 * The mean squared error, as torch's {@code nn.MSELoss}: {@code (x - y)^2} per element, summed, or averaged over all
 * {@code n * C} elements. The target is a block of the output's size. Gradient: {@code 2 (x - y)}, scaled.
 */
public final class MSELoss extends Loss<FloatBlock> {
  private static final long serialVersionUID = 1L;

  /** {@code nn.MSELoss()}: the mean. */
  public MSELoss() {
    this(Reduction.MEAN);
  }

  public MSELoss(Reduction reduction) {
    super(reduction);
  }

  @Override
  protected void checkTarget(FloatBlock output, FloatBlock target) {
    checkSameSize(output, target);
  }

  @Override
  protected LossSum compute(FloatBlock output, FloatBlock target, double scale, FloatBlock gradient) {
    double sum = sumChunks(output, target, gradient, (x, y, rows, cols, grad) -> {
      double chunk = 0;
      for (int i = 0; i < rows * cols; i++) {
        double d = (double) x[i] - y[i];
        chunk += d * d;
        if (grad != null) {
          grad[i] = (float) (scale * 2 * d);
        }
      }
      return chunk;
    });
    return new LossSum(sum, totalWeight(output, target));
  }

  @Override
  public String toString() {
    return "MSELoss(reduction=" + reduction().torchName() + ")";
  }
}
