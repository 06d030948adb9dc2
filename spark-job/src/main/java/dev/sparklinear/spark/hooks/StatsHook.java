package dev.sparklinear.spark.hooks;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.Module;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;

/**
 * A forward hook that adds every output block into an {@link OutputStats} accumulator, so that the driver ends the
 * job with per-dimension statistics of everything the module produced. It returns null: the output is unchanged.
 *
 * <pre>{@code
 * StatsHook stats = StatsHook.register(spark.sparkContext(), "output stats", fc.outFeatures(), 20, -10, 10);
 * fc.registerForwardHook(stats);
 * // ... run the job ...
 * List<DimensionStats> perDimension = stats.value();
 * }</pre>
 *
 * <p>The hook travels to the executors inside the broadcast module, which every task of an executor shares. An
 * accumulator inside a broadcast would report only to the first task that read it, so instead each task adds into a
 * copy of its own, made on first use by deserializing the accumulator, which registers the copy with the task as
 * Spark does for accumulators in a task's closure; Spark merges each task's copy on the driver once, also for a
 * retried task. A call outside any task (in a test or on the driver) adds into the driver's accumulator directly.
 */
public final class StatsHook implements ForwardHook, Serializable {
  private static final long serialVersionUID = 1L;

  /** The registered accumulator as Spark ships it: a zero copy that knows its id. */
  private final byte[] shippedAccumulator;
  private final int dims;
  /** The driver's accumulator; absent after the hook is deserialized. */
  private final transient OutputStats driverAccumulator;
  private transient volatile Map<Long, OutputStats> taskCopies;

  private StatsHook(OutputStats registered) {
    this.driverAccumulator = registered;
    this.dims = registered.dims();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(registered);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the stats accumulator", e);
    }
    this.shippedAccumulator = bytes.toByteArray();
  }

  /**
   * Registers a fresh {@link OutputStats} accumulator named {@code name} with {@code context} and returns the hook
   * that fills it. Call on the driver, before the module is broadcast.
   */
  public static StatsHook register(
      SparkContext context, String name, int dims, int bins, double histogramMin, double histogramMax) {
    OutputStats accumulator = new OutputStats(dims, bins, histogramMin, histogramMax);
    context.register(accumulator, name);
    return new StatsHook(accumulator);
  }

  /** The statistics gathered so far, on the driver: complete once the job's action has finished. */
  public List<DimensionStats> value() {
    if (driverAccumulator == null) {
      throw new IllegalStateException("The stats are read on the driver, from the hook that registered them");
    }
    return driverAccumulator.value();
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    if (output == null) {
      return null; // forward failed and the hook was registered with ALWAYS_CALL: nothing to count
    }
    if (output.cols() != dims) {
      throw new IllegalArgumentException("The stats hook gathers " + dims + " dimensions, but " + module
          + " returned blocks of " + output.cols() + " columns");
    }
    TaskContext task = TaskContext.get();
    if (task == null) {
      if (driverAccumulator == null) {
        throw new IllegalStateException("A stats hook outside a Spark task must be the driver's own");
      }
      synchronized (driverAccumulator) {
        driverAccumulator.add(output);
      }
    } else {
      copyFor(task).add(output);
    }
    return null;
  }

  /** This task's copy of the accumulator, made and registered with the task on first use. */
  private OutputStats copyFor(TaskContext task) {
    Map<Long, OutputStats> copies = taskCopies;
    if (copies == null) {
      synchronized (this) {
        if (taskCopies == null) {
          taskCopies = new ConcurrentHashMap<>();
        }
        copies = taskCopies;
      }
    }
    long attempt = task.taskAttemptId();
    OutputStats copy = copies.get(attempt);
    if (copy == null) {
      copy = readShippedCopy();
      copies.put(attempt, copy);
      Map<Long, OutputStats> registry = copies;
      task.addTaskCompletionListener((TaskCompletionListener) finished -> registry.remove(attempt));
    }
    return copy;
  }

  /** Deserializing the accumulator registers it with the current task (see AccumulatorV2.readObject). */
  private OutputStats readShippedCopy() {
    try (ObjectInputStream in = new ClassLoaderObjectInputStream(new ByteArrayInputStream(shippedAccumulator))) {
      return (OutputStats) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("Cannot make this task's copy of the stats accumulator", e);
    }
  }

  /** Resolves classes with the loader that loaded this class (the application's, on an executor). */
  private static final class ClassLoaderObjectInputStream extends ObjectInputStream {
    ClassLoaderObjectInputStream(InputStream in) throws IOException {
      super(in);
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
      try {
        return Class.forName(desc.getName(), false, StatsHook.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        return super.resolveClass(desc);
      }
    }
  }

  @Override
  public String toString() {
    return "StatsHook(dims=" + dims + ")";
  }
}
