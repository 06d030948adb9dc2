package dev.sparklinear.core.kernel;

/** The portable {@link WeightGradientKernel}: each product added in float64, in row order. */
final class ScalarWeightGradientKernel implements WeightGradientKernel {
  @Override
  public void accumulate(float[] gradOutput, float[] input, int rows, int out, int in, double[] gradWeight) {
    for (int r = 0; r < rows; r++) {
      int x = r * in;
      for (int o = 0; o < out; o++) {
        double g = gradOutput[r * out + o];
        int w = o * in;
        for (int i = 0; i < in; i++) {
          gradWeight[w + i] += g * input[x + i];
        }
      }
    }
  }

  @Override
  public String name() {
    return "scalar";
  }
}
