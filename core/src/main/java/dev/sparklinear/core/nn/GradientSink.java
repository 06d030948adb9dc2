package dev.sparklinear.core.nn;

import dev.sparklinear.core.tensor.Tensor;

/**
 * Where a module's backward puts the gradients of its parameters: torch's float32 {@link Parameter#grad()}
 * ({@link #PARAMETER_GRAD}), or the float64 sums of a {@link GradientSums}. A module computes each parameter's
 * gradient of one call in float64, into the array {@link #sumFor} gives, then hands it back to {@link #added}.
 */
interface GradientSink {
  /** The float64 array, of {@code parameter}'s size, that one call adds its gradient of {@code parameter} into. */
  double[] sumFor(Parameter parameter);

  /** The call has added its gradient of {@code parameter} into {@code sum}, the array {@link #sumFor} gave. */
  void added(Parameter parameter, double[] sum);

  /**
   * As torch's autograd: each call's gradient is rounded to float32 once and added to the parameter's {@code .grad}
   * in float32.
   */
  GradientSink PARAMETER_GRAD = new GradientSink() {
    @Override
    public double[] sumFor(Parameter parameter) {
      return new double[parameter.numel()];
    }

    @Override
    public void added(Parameter parameter, double[] sum) {
      float[] grad = new float[sum.length];
      for (int i = 0; i < sum.length; i++) {
        grad[i] = (float) sum[i];
      }
      parameter.accumulateGrad(Tensor.wrap(grad, parameter.shape()));
    }
  };
}
