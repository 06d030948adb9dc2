package dev.sparklinear.core.hooks;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.ForwardPreHook;
import dev.sparklinear.core.nn.Module;
import java.io.Serializable;

/**
 * A hook that rewrites a whole block in place, usable either as a forward pre-hook (it then rewrites the module's
 * inputs) or as a forward hook (it rewrites the outputs):
 *
 * <pre>{@code
 * fc.registerForwardPreHook(new Standardize(mean, std));
 * fc.registerForwardHook(new Relu());
 * }</pre>
 *
 * <p>The block is processed a chunk of rows at a time through one heap array taken per call, so a block of any size
 * costs one small allocation; the hook returns the same block, changed. Block hooks hold no state between calls and
 * may run on several threads at once; they are {@link Serializable} so that a module carries them to Spark executors.
 */
public abstract class BlockHook implements ForwardPreHook, ForwardHook, Serializable {
  private static final long serialVersionUID = 1L;

  /** Which of the module's blocks a hook is rewriting. */
  public enum Target {
    /** The module's inputs: the hook runs as a forward pre-hook. */
    INPUTS,
    /** The module's outputs: the hook runs as a forward hook. */
    OUTPUTS;

    /** {@code inputs} or {@code outputs}, as messages say it. */
    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @Override
  public final FloatBlock apply(Module module, FloatBlock input, CallContext context) {
    return transform(input, Target.INPUTS, context);
  }

  @Override
  public final FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    // A hook registered with ALWAYS_CALL sees no output when forward failed: nothing to rewrite then.
    return output == null ? null : transform(output, Target.OUTPUTS, context);
  }

  /**
   * Rewrites {@code block} in place and returns it.
   *
   * @throws IllegalArgumentException when the block's width does not fit the hook (a vector of another length)
   */
  public FloatBlock transform(FloatBlock block, Target target, CallContext context) {
    checkWidth(block.cols(), target);
    block.mapRows(block, (values, rows, cols, firstRow) -> transformRows(values, rows, cols, firstRow, target, context));
    return block;
  }

  /**
   * Rewrites {@code rows} rows of {@code cols} values, row-major at the start of {@code values}; they are rows
   * {@code firstRow ..} of the block.
   *
   * @return whether any value was changed (false spares the copy back)
   */
  protected abstract boolean transformRows(
      float[] values, int rows, int cols, int firstRow, Target target, CallContext context);

  /** Refuses a block whose width does not fit; by default any width fits. */
  protected void checkWidth(int cols, Target target) {}
}
