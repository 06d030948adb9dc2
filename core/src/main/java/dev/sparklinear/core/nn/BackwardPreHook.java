package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;

/**
 * Runs during a backward pass when the gradient with respect to a module's output has been computed, before the
 * module's own backward, as PyTorch's {@code register_full_backward_pre_hook(hook(module, grad_output))}.
 *
 * <p>Return null to keep {@code gradOutput}, or a block to use instead (of the same shape): {@code gradOutput} changed
 * in place, or a new block (for example from {@code gradOutput.allocator()}), which then belongs to the tape. The
 * replacement is what the module's backward and its backward hooks see. Do not close {@code gradOutput}, and do not
 * keep it after the hook returns: the tape closes it (copy what must outlive the hook).
 */
@FunctionalInterface
public interface BackwardPreHook {
  FloatBlock apply(Module module, FloatBlock gradOutput);
}
