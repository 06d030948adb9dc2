package dev.sparklinear.it.hooks;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.Module;
import java.util.Map;

/**
 * A forward hook that sleeps {@code millis} per block and leaves the output unchanged: it makes a small job run for
 * a known, machine-independent time, so that a test can act on the cluster while the job's tasks are running.
 *
 * <pre>{@code
 * hooks.forward: [{class: dev.sparklinear.it.hooks.SlowHook, millis: 100}]
 * }</pre>
 */
public class SlowHook implements ForwardHook {
  private final long millis;

  public SlowHook(Map<String, String> params) {
    millis = Long.parseLong(params.getOrDefault("millis", "100"));
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      // Spark interrupts a task it kills: end the task, as any blocking call in it would.
      Thread.currentThread().interrupt();
      throw new IllegalStateException("SlowHook interrupted", e);
    }
    return null;
  }
}
