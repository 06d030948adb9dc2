package dev.sparklinear.core.nn;

/**
 * A backward hook or backward pre-hook failed during {@link GradientTape#backward}; the message names the module and
 * its place in the tree ({@code backward hook of Linear(in_features=4, out_features=3, bias=True) at '0' failed: ...})
 * and the hook's own exception is the cause.
 */
public class BackwardHookException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BackwardHookException(String message, Throwable cause) {
    super(message, cause);
  }
}
