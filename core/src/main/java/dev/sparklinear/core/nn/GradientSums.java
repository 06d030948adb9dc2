package dev.sparklinear.core.nn;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Float64 sums of parameters' gradients over many backward passes, kept instead of {@link Parameter#grad()}: a
 * {@link GradientTape} made with one adds each parameter's gradient here, in float64, and leaves {@code .grad} alone.
 *
 * <p>For a caller that adds up the gradients of many blocks, such as one partition of a fit: torch's float32
 * {@code .grad} would round each block's gradient to float32 before it is added, and those roundings depend on where
 * the block boundaries fall. Here nothing is rounded until the caller reads the total, so that summing the same rows
 * in other blocks changes only the order of float64 additions.
 *
 * <pre>{@code
 * GradientSums sums = new GradientSums();
 * for (FloatBlock x : blocks) {
 *   try (GradientTape tape = new GradientTape(allocator, sums);
 *        FloatBlock y = net.call(x, CallContext.of(x).withTape(tape));
 *        FloatBlock dy = ...) {
 *     tape.backward(y, dy);
 *   }
 * }
 * double[] total = sums.sum(fc.weight());   // null when no backward pass reached it
 * }</pre>
 *
 * <p>Sums are kept per parameter object: a parameter replaced in the module (an optimizer step, {@code setWeight})
 * starts a sum of its own. Like a tape, an instance belongs to one thread.
 */
public final class GradientSums {
  private final Map<Parameter, double[]> sums = new IdentityHashMap<>();
  private final GradientSink sink = new GradientSink() {
    @Override
    public double[] sumFor(Parameter parameter) {
      return sums.computeIfAbsent(parameter, p -> new double[p.numel()]);
    }

    @Override
    public void added(Parameter parameter, double[] sum) {
      // Added in place already.
    }
  };

  /**
   * A copy of the float64 sum of {@code parameter}'s gradients, row-major as its values; null when no backward pass
   * has reached it (as torch's {@code grad is None}).
   */
  public double[] sum(Parameter parameter) {
    double[] sum = sums.get(parameter);
    return sum == null ? null : sum.clone();
  }

  /** What a tape made with these sums gives its modules' backward. */
  GradientSink sink() {
    return sink;
  }
}
