package dev.sparklinear.core.hooks;

import dev.sparklinear.core.nn.CallContext;

/**
 * Deals with NaN and infinities in a module's inputs (as a pre-hook) or outputs (as a forward hook): either fails at
 * the first one with a {@link NonFiniteValueException} that says where it is, or replaces them as
 * {@code torch.nan_to_num(x, nan, posinf, neginf)} does, by default with 0, the largest finite float and the most
 * negative finite float.
 *
 * <pre>{@code
 * fc.registerForwardPreHook(NanGuard.fail());           // refuse rows with NaN or infinite features
 * fc.registerForwardHook(NanGuard.replace(0f, 1e6f, -1e6f));
 * }</pre>
 */
public final class NanGuard extends BlockHook {
  private static final long serialVersionUID = 1L;

  /** What the guard does with a NaN or an infinity. */
  public enum Action {
    /** Throw {@link NonFiniteValueException} at the first one. */
    FAIL,
    /** Write the replacement value in its place. */
    REPLACE
  }

  private final Action action;
  private final float nan;
  private final float posinf;
  private final float neginf;

  private NanGuard(Action action, float nan, float posinf, float neginf) {
    this.action = action;
    this.nan = nan;
    this.posinf = posinf;
    this.neginf = neginf;
  }

  /** A guard that fails at the first NaN or infinity. */
  public static NanGuard fail() {
    return new NanGuard(Action.FAIL, 0f, Float.MAX_VALUE, -Float.MAX_VALUE);
  }

  /** A guard that replaces as {@code torch.nan_to_num(x)} does: NaN by 0, infinities by the extreme finite floats. */
  public static NanGuard replace() {
    return replace(0f, Float.MAX_VALUE, -Float.MAX_VALUE);
  }

  /** A guard that replaces NaN by {@code nan}, +inf by {@code posinf} and -inf by {@code neginf}. */
  public static NanGuard replace(float nan, float posinf, float neginf) {
    return new NanGuard(Action.REPLACE, nan, posinf, neginf);
  }

  public Action action() {
    return action;
  }

  @Override
  protected boolean transformRows(float[] values, int rows, int cols, int firstRow, Target target, CallContext ctx) {
    boolean changed = false;
    int n = rows * cols;
    for (int i = 0; i < n; i++) {
      float v = values[i];
      if (Float.isFinite(v)) {
        continue;
      }
      if (action == Action.FAIL) {
        throw new NonFiniteValueException(v, target, firstRow + i / cols, i % cols, ctx);
      }
      values[i] = Float.isNaN(v) ? nan : v > 0 ? posinf : neginf;
      changed = true;
    }
    return changed;
  }

  @Override
  public String toString() {
    return action == Action.FAIL ? "NanGuard(action=fail)"
        : "NanGuard(action=replace, nan=" + nan + ", posinf=" + posinf + ", neginf=" + neginf + ")";
  }
}
