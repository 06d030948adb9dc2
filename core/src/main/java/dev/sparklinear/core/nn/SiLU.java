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
  float activate(float x) {
    return (float) (x / (1 + Math.exp(-(double) x)));
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
