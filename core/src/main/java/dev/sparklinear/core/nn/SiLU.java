package dev.sparklinear.core.nn;

/**
 * {@code x * sigmoid(x)} for each value, as PyTorch's {@code nn.SiLU} (also called swish), computed in double as
 * {@code x / (1 + exp(-x))}: for large negative {@code x} the denominator overflows to infinity and the result goes
 * to {@code -0.0} smoothly instead of through {@code inf * 0}.
 *
 * <p>{@code inplace} is kept for the repr ({@code SiLU(inplace=True)}); a block is never changed in place.
 */
public class SiLU extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  private final boolean inplace;

  public SiLU() {
    this(false);
  }

  public SiLU(boolean inplace) {
    this.inplace = inplace;
  }

  @Override
  double activate64(double x) {
    return x / (1 + Math.exp(-x));
  }

  @Override
  int savedForBackward() {
    return SAVES_INPUT;
  }

  /**
   * {@code s (1 + x (1 - s))} with {@code s = sigmoid(x)}, as torch's {@code silu_backward}; {@code 1 - s} is
   * {@code sigmoid(-x)}, computed as such so that it keeps its digits where {@code s} is near 1.
   */
  @Override
  double derivative(double x, double y) {
    double s = 1 / (1 + Math.exp(-x));
    double oneMinusS = 1 / (1 + Math.exp(x));
    return s * (1 + x * oneMinusS);
  }

  /** PyTorch's {@code inplace} argument, kept for the repr and for saving; blocks are never changed in place. */
  public final boolean inplace() {
    return inplace;
  }

  @Override
  protected String extraRepr() {
    return inplace ? "inplace=True" : "";
  }
}
