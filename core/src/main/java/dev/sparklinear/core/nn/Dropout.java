package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * PyTorch's {@code nn.Dropout(p)}. In evaluation mode (after {@link #eval()}, how a model is run for inference) it
 * returns its input unchanged, as a copy in a new block. Training mode, where PyTorch zeroes values at random and
 * scales the others by {@code 1 / (1 - p)}, is not supported yet: calling it then throws, unless {@code p} is 0.
 *
 * <p>{@code inplace} is kept for the repr; a block is never changed in place. Evaluation mode is {@link Identity}'s
 * computation, forward and backward, hence the subclass.
 */
public class Dropout extends Identity {
  private static final long serialVersionUID = 1L;

  private final double p;
  private final boolean inplace;

  /** {@code p = 0.5}, as PyTorch's default. */
  public Dropout() {
    this(0.5);
  }

  public Dropout(double p) {
    this(p, false);
  }

  /**
   * @param p the probability of zeroing a value in training mode, from 0 to 1
   * @throws IllegalArgumentException worded as PyTorch's, when {@code p} is outside {@code [0, 1]}
   */
  public Dropout(double p, boolean inplace) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(
          "dropout probability has to be between 0 and 1, but got " + TorchRepr.number(p));
    }
    this.p = p;
    this.inplace = inplace;
  }

  public double p() {
    return p;
  }

  @Override
  void checkInput(FloatBlock input) {
    if (isTraining() && p > 0) {
      throw new UnsupportedOperationException("Dropout in training mode is not supported yet; call eval()");
    }
  }

  /** PyTorch's {@code inplace} argument, kept for the repr and for saving; blocks are never changed in place. */
  public final boolean inplace() {
    return inplace;
  }

  @Override
  protected String extraRepr() {
    return "p=" + TorchRepr.number(p) + ", inplace=" + TorchRepr.bool(inplace);
  }
}
