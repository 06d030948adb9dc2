package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * Runs after a module's {@code forward}, as PyTorch's {@code register_forward_hook}.
 *
 * <p>Return null to keep the output, or a block to use instead: {@code output} changed in place, or a new block taken
 * from {@link CallContext#allocate}, which then belongs to the call pipeline. {@code input} is the input as
 * {@code forward} saw it (after pre-hooks); do not close either block.
 *
 * <p>A hook registered with {@link HookOption#ALWAYS_CALL} also runs when {@code forward} or an earlier hook threw;
 * then {@code output} is whatever output existed at that point, possibly null.
 */
@FunctionalInterface
public interface ForwardHook {
  FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context);
}
