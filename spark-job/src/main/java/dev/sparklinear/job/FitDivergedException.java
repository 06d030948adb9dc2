package dev.sparklinear.job;

/** A fit whose loss or parameters became NaN or infinite; the message says at which epoch and what to change. */
public final class FitDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  FitDivergedException(String message) {
    super(message);
  }
}
