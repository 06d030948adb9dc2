package dev.sparklinear.core.nn;

/**
 * The Gaussian error linear unit for each value, as PyTorch's {@code nn.GELU}:
 *
 * <ul>
 *   <li>{@code approximate = "none"} (the default): {@code x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))}, computed as
 *       {@code 0.5 x erfc(-x / sqrt(2))} with {@link Erf}, which keeps full relative accuracy in the negative tail
 *       where {@code 1 + erf} cancels;
 *   <li>{@code approximate = "tanh"}: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, computed as
 *       {@code x / (1 + exp(-2u))} with {@code u} the argument of tanh (the same function, since
 *       {@code 1 + tanh(u) = 2 / (1 + exp(-2u))}), again without cancellation.
 * </ul>
 *
 * Both in double, rounded once to float32.
 */
public class GELU extends ElementwiseModule {
  private static final long serialVersionUID = 1L;

  private static final double SQRT_HALF = Math.sqrt(0.5);
  private static final double SQRT_TWO_OVER_PI = Math.sqrt(2 / Math.PI);
  private static final double INV_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);

  private final boolean tanh;

  /** The exact form, {@code approximate = "none"}. */
  public GELU() {
    this("none");
  }

  /**
   * @param approximate {@code "none"} or {@code "tanh"}, as in PyTorch
   * @throws IllegalArgumentException worded as PyTorch's, for any other value
   */
  public GELU(String approximate) {
    if (!"none".equals(approximate) && !"tanh".equals(approximate)) {
      throw new IllegalArgumentException("approximate argument must be either none or tanh.");
    }
    this.tanh = approximate.equals("tanh");
  }

  /** {@code "none"} or {@code "tanh"}. */
  public String approximate() {
    return tanh ? "tanh" : "none";
  }

  @Override
  double activate64(double x) {
    if (tanh) {
      double u = SQRT_TWO_OVER_PI * (x + 0.044715 * x * x * x);
      return x / (1 + Math.exp(-2 * u));
    }
    return 0.5 * x * Erf.erfc(-x * SQRT_HALF);
  }

  @Override
  int savedForBackward() {
    return SAVES_INPUT;
  }

  /**
   * The exact form's {@code Phi(x) + x phi(x)}; the tanh form's {@code 0.5 (1 + t) + 0.5 x (1 - t^2) u'} with
   * {@code t = tanh(u)}, written as {@code s + 2 x s (1 - s) u'} with {@code s = sigmoid(2u)} and {@code 1 - s =
   * sigmoid(-2u)}, which keeps its digits in both tails.
   */
  @Override
  double derivative(double x, double y) {
    if (tanh) {
      double u = SQRT_TWO_OVER_PI * (x + 0.044715 * x * x * x);
      double du = SQRT_TWO_OVER_PI * (1 + 3 * 0.044715 * x * x);
      double s = 1 / (1 + Math.exp(-2 * u));
      double oneMinusS = 1 / (1 + Math.exp(2 * u));
      return s + 2 * x * s * oneMinusS * du;
    }
    return 0.5 * Erf.erfc(-x * SQRT_HALF) + x * Math.exp(-0.5 * x * x) * INV_SQRT_TWO_PI;
  }

  @Override
  protected String extraRepr() {
    return "approximate='" + approximate() + "'";
  }
}
