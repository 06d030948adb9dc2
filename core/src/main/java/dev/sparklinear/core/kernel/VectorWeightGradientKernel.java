package dev.sparklinear.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link WeightGradientKernel} on the Vector API: for each output {@code o} and each vector of inputs, the chunk's
 * rows are summed in one float32 register by fused multiply-adds ({@code dY[r, o]} broadcast, a row of {@code X}
 * loaded), then added to the float64 accumulator once. The float32 part of the error is that of a sum of
 * {@code rows} terms per chunk; chunks add in float64. Only {@link LinearGradients} makes one, after checking that the
 * Vector API is present: this class must not be loaded on a JVM without it.
 */
final class VectorWeightGradientKernel implements WeightGradientKernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();

  @Override
  public void accumulate(float[] gradOutput, float[] input, int rows, int out, int in, double[] gradWeight) {
    float[] lanes = new float[LANES];
    int vectorEnd = in - in % LANES;
    for (int o = 0; o < out; o++) {
      int w = o * in;
      for (int i = 0; i < vectorEnd; i += LANES) {
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int r = 0; r < rows; r++) {
          float g = gradOutput[r * out + o];
          sum = FloatVector.fromArray(SPECIES, input, r * in + i).fma(FloatVector.broadcast(SPECIES, g), sum);
        }
        sum.intoArray(lanes, 0);
        for (int l = 0; l < LANES; l++) {
          gradWeight[w + i + l] += lanes[l];
        }
      }
      for (int i = vectorEnd; i < in; i++) {
        float sum = 0;
        for (int r = 0; r < rows; r++) {
          sum = Math.fma(gradOutput[r * out + o], input[r * in + i], sum);
        }
        gradWeight[w + i] += sum;
      }
    }
  }

  @Override
  public String name() {
    return "vector";
  }
}
