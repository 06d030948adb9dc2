package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * Runs during a backward pass when the gradient with respect to a module's input has been computed, as PyTorch's
 * {@code register_full_backward_hook(hook(module, grad_input, grad_output))}.
 *
 * <p>{@code gradInput} is the gradient with respect to the module's (only, positional) input, or null when that input
 * does not require grad, as torch passes {@code (None,)}: then the hook runs as soon as the gradient with respect to
 * the output is known, and must return null. Otherwise return null to keep {@code gradInput}, or a block to use
 * instead (of the same shape): {@code gradInput} changed in place, or a new block, which then belongs to the tape; the
 * replacement is what flows on to the modules before this one. Parameters' gradients have been accumulated already,
 * from {@code gradOutput}, when the hook runs. Do not close either block nor keep it after the hook returns.
 */
@FunctionalInterface
public interface BackwardHook {
  FloatBlock apply(Module module, FloatBlock gradInput, FloatBlock gradOutput);
}
