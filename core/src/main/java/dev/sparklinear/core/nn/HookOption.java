package dev.sparklinear.core.nn;

/** How a hook is registered; PyTorch's keyword arguments of {@code register_forward_hook}. */
public enum HookOption {
  /** Run this hook before the hooks already registered, not after them. */
  PREPEND,
  /** Forward hooks only: run even when {@code forward} or an earlier hook throws. */
  ALWAYS_CALL
}
