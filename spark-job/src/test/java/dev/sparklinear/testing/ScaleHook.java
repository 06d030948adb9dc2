package dev.sparklinear.testing;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.Module;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;

/**
 * A user hook class as a job config names it: multiplies the outputs by {@code factor}. It is deliberately not
 * Serializable, and it records how many instances were made and how many of them inside a Spark task.
 */
public class ScaleHook implements ForwardHook {
  public static final AtomicInteger INSTANCES = new AtomicInteger();
  public static final AtomicInteger INSTANCES_IN_TASKS = new AtomicInteger();

  private final float factor;

  public ScaleHook(Map<String, String> params) {
    factor = Float.parseFloat(params.get("factor"));
    INSTANCES.incrementAndGet();
    if (TaskContext.get() != null) {
      INSTANCES_IN_TASKS.incrementAndGet();
    }
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    for (int r = 0; r < output.rows(); r++) {
      for (int c = 0; c < output.cols(); c++) {
        output.set(r, c, output.get(r, c) * factor);
      }
    }
    return output;
  }
}
