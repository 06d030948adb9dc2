package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * Runs before a module's {@code forward}, as PyTorch's {@code register_forward_pre_hook}.
 *
 * <p>Return null to leave the input as it is, or a block to use instead: either {@code input} itself changed in place,
 * or a new block taken from {@link CallContext#allocate}, which then belongs to the call pipeline (it closes it).
 */
@FunctionalInterface
public interface ForwardPreHook {
  FloatBlock apply(Module module, FloatBlock input, CallContext context);
}
