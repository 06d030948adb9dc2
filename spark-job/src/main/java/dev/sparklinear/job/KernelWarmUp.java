package dev.sparklinear.job;

import dev.sparklinear.core.block.BlockPool;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.JobConfig.ModuleConfig;
import dev.sparklinear.job.config.Layer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.util.ArrowUtils;

/**
 * Gets the JIT to compile the module's kernels while the Spark session starts, so that the first tasks do not run the
 * Vector API kernel in its slow fallback (the API computes each vector operation on arrays until C2 has compiled the
 * caller, which in a cold run took the first seconds of the tasks).
 *
 * <p>Only in local mode ({@code local} or {@code local[...]}), where the tasks run in this JVM: a daemon thread
 * builds a module of the job's shapes (the same layers and widths, randomly initialised from a fixed seed: the values
 * do not change which code runs, and no weights file is read twice) and calls it, as a task would, on a block of
 * made-up features from an allocator of its own, until the first Spark job starts, {@link #stop()} is called, or a
 * bound of work or time is reached. It frees its memory however it ends.
 *
 * <p>It cannot change the job's results: it shares no module, block, pool or allocator with the job, draws no seed
 * from {@code Init}'s JVM-wide sequence, and the job registers no global hooks that its calls could run. Nothing
 * waits for it: the session starts beside it, and it gives its core to the tasks when the first job starts (by then
 * its calls have queued the kernel for compilation, and the tasks' own calls finish the warm-up if it is not done).
 * Any failure ends it quietly, logged at debug level.
 */
final class KernelWarmUp {
  private static final Logger LOG = LogManager.getLogger(KernelWarmUp.class);

  /** Masters whose tasks run in this JVM: {@code local}, {@code local[4]}, {@code local[*]}, {@code local[4,2]}. */
  private static final Pattern LOCAL_MASTER = Pattern.compile("local(\\[[^\\]]*])?");
  /** The seed of the warm-up module's parameters. */
  private static final long SEED = 0x5eed;
  /** Rows per call at most: enough for every tile loop of the kernels, little memory. */
  static final int MAX_ROWS = 1024;
  /** Larger modules are not warmed up: their copy would cost memory, and their own first blocks compile them soon. */
  static final long MAX_WEIGHTS = 1L << 22;
  /**
   * Multiply-adds of all calls together at most: 1024 calls of 1024 rows of 64 -> 16, when the kernel is compiled
   * after about 50 (in a cold job's JVM, beside the session starting) and then takes a fraction of a millisecond.
   */
  static final long MAX_MULTIPLY_ADDS = 1L << 30;
  /** Floats of any block of a call at most. */
  static final int MAX_BLOCK_FLOATS = 1 << 20;
  /** Calls at most, and time at most, whatever the module. */
  static final int MAX_CALLS = 2000;
  static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** The warm-up that does nothing (not local mode, or nothing to warm up). */
  static final KernelWarmUp NONE = new KernelWarmUp(null);

  private static final AtomicInteger STARTED = new AtomicInteger();

  private final Thread thread;
  private final AtomicInteger calls = new AtomicInteger();
  private volatile boolean stopping;

  /** A warm-up that will run {@code work} on a thread of its own, or none when {@code work} is null. */
  private KernelWarmUp(Consumer<KernelWarmUp> work) {
    this.thread = work == null ? null : new Thread(() -> {
      try {
        work.accept(this);
      } catch (RuntimeException | Error e) { // an OutOfMemoryError too: the job goes on without the warm-up
        LOG.debug("Kernel warm-up ended early", e);
      }
    }, "spark-linear kernel warm-up");
  }

  /** Whether tasks under {@code master} run in this JVM. */
  static boolean isLocal(String master) {
    return master != null && LOCAL_MASTER.matcher(master.trim()).matches();
  }

  /**
   * Starts warming up the kernels of {@code config}'s module when {@code master} is a local one; otherwise, or when the
   * module is too large, returns {@link #NONE}. Never throws.
   */
  static KernelWarmUp start(JobConfig config, String master) {
    try {
      if (!isLocal(master)) {
        return NONE;
      }
      ModuleConfig module = config.module();
      long weights = linearWeights(module);
      if (weights == 0 || weights > MAX_WEIGHTS) {
        return NONE;
      }
      int in = module.inputWidth();
      int out = module.outputWidth();
      int widest = module.widths().stream().filter(Objects::nonNull).mapToInt(Integer::intValue).max().orElse(in);
      // The job's block rows (as ModuleTransformer plans them), within the bounds.
      long planned = Math.min(config.block().maxRows(), config.block().maxBytes() / (4L * (in + out)));
      int rows = (int) Math.max(1, Math.min(Math.min(planned, MAX_ROWS), MAX_BLOCK_FLOATS / widest));
      return startThread(warmUp -> warmUp.callRepeatedly(moduleOfShapes(module), in, rows, weights));
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("Kernel warm-up not started", e);
      return NONE;
    }
  }

  /** Runs {@code work} as a warm-up thread: what {@link #start} does with the module's calls; for tests. */
  static KernelWarmUp startThread(Consumer<KernelWarmUp> work) {
    KernelWarmUp warmUp = new KernelWarmUp(work);
    warmUp.thread.setDaemon(true);
    warmUp.thread.start();
    STARTED.incrementAndGet();
    return warmUp;
  }

  /**
   * Calls {@code module} on blocks of made-up features, as a task does, alternately of {@code rows} rows and of a few
   * rows fewer (so that the kernels' loops over the rows left after whole tiles run too, as a partition's last block
   * makes them), until stopped or a bound is reached.
   */
  private void callRepeatedly(Module module, int in, int rows, long weights) {
    long deadline = System.nanoTime() + MAX_NANOS;
    long maxCalls = Math.min(MAX_CALLS, Math.max(1, MAX_MULTIPLY_ADDS / (weights * rows)));
    float[] features = new float[rows * in];
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) Math.sin(i);
    }
    try (BufferAllocator allocator = ArrowUtils.rootAllocator().newChildAllocator("spark-linear kernel warm-up", 0,
            Long.MAX_VALUE);
        BlockPool pool = new BlockPool(allocator);
        FloatBlock x = FloatBlock.allocate(allocator, rows, in)) {
      x.writeRows(0, rows, features, 0);
      int fewer = Math.max(1, rows - 5);
      for (int i = 0; i < maxCalls && !stopping && System.nanoTime() < deadline; i++) {
        int n = i % 2 == 0 ? rows : fewer;
        try (FloatBlock input = FloatBlock.wrap(x.buffer(), n, in);
            FloatBlock output = module.call(input, CallContext.of(n, -1, i, 0, pool))) {
          calls.incrementAndGet();
        }
      }
    }
    LOG.debug("Kernel warm-up: {} calls of {} rows in {} ms{}", calls.get(), rows,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deadline + MAX_NANOS), stopping ? ", stopped" : "");
  }

  /**
   * Stops the warm-up at the first Spark job of {@code spark}, whose tasks then have the cores; at once if the session
   * turns out not to be local after all (one that was already running in this JVM).
   */
  void stopAtFirstJob(SparkContext spark) {
    if (thread == null) {
      return;
    }
    if (!isLocal(spark.master())) {
      stop();
      return;
    }
    spark.addSparkListener(new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart jobStart) {
        stop();
      }
    });
  }

  /** Asks the warm-up to end after the call it is in; does not wait for it. */
  void stop() {
    stopping = true;
  }

  /** Whether a thread was started. */
  boolean started() {
    return thread != null;
  }

  /** Calls made so far. */
  int calls() {
    return calls.get();
  }

  /** Waits up to {@code millis} for the thread to end; whether it has. */
  boolean awaitEnd(long millis) throws InterruptedException {
    if (thread == null) {
      return true;
    }
    thread.join(millis);
    return !thread.isAlive();
  }

  /** Warm-up threads started in this JVM. */
  static int threadsStarted() {
    return STARTED.get();
  }

  /** The weights of the module's Linear layers: the multiply-adds of one row. */
  static long linearWeights(ModuleConfig module) {
    if (module.layers() == null) {
      return (long) module.inFeatures() * module.outFeatures();
    }
    long weights = 0;
    for (Layer layer : module.layers()) {
      if (layer instanceof Layer.Linear linear) {
        weights += (long) linear.inFeatures() * linear.outFeatures();
      }
    }
    return weights;
  }

  /**
   * A module of the job's shapes and precision (so that the kernel the job will run is the one warmed up), initialised
   * from {@link #SEED}, in evaluation mode as the job runs it.
   */
  static Module moduleOfShapes(ModuleConfig module) {
    return ModuleLoader.withPrecision(module.layers() != null ? Layer.sequential(module.layers(), SEED)
        : new Linear(module.inFeatures(), module.outFeatures(), module.bias(), SEED), module.precision());
  }
}
