package dev.sparklinear.bench;

import dev.sparklinear.core.block.BlockPool;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.GELU;
import dev.sparklinear.core.nn.GradientSums;
import dev.sparklinear.core.nn.GradientTape;
import dev.sparklinear.core.nn.LayerNorm;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ReLU;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.nn.Softmax;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code call} of a module tree on one block, single-threaded, output allocated and closed as a job does, for the
 * parts of a tree that are not the Linear kernel alone:
 *
 * <ul>
 *   <li>{@code linearRelu}: {@code Sequential(Linear(64, 256), ReLU())} on 4096 rows, as a job runs it;
 *       {@code linearReluSeparate}: the same tree with a no-op forward hook on the ReLU, which makes the two modules
 *       run one after the other, each with its own output block;
 *   <li>{@code mlp}: {@code Sequential(Linear(64, 256), ReLU(), Linear(256, 16))} on 4096 rows (the end-to-end
 *       benchmark's {@code mlp} head), each block a new allocation (a plain {@code call}); {@code mlpSeparate}: the
 *       same with a no-op hook on the ReLU (no fusion); {@code mlpPooled}: the same as {@code mlp} with its blocks
 *       taken from a {@link BlockPool}, as a job's partition runs it;
 *   <li>{@code geluExact}, {@code geluTanh}, {@code layerNorm}, {@code softmax}: the module alone on 4096 x 256;
 *   <li>{@code mlpRecorded}: one training step's module work on 4096 rows, as a fit runs it: the {@code mlp} head
 *       called under a {@link GradientTape} (its float32 forward and, while recording, its float64 one), then the
 *       tape's backward pass with a gradient of ones, parameters' gradients into float64 {@link GradientSums};
 *       {@code regressionRecorded}: the same for {@code Linear(64, 1)}, the fit benchmark's model.
 * </ul>
 *
 * <p>Run with {@code java -jar bench/target/benchmarks.jar ModuleBenchmark} (after
 * {@code mvn -DskipTests package -pl bench -am}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {
    "-XX:+IgnoreUnrecognizedVMOptions",
    "--add-modules=jdk.incubator.vector",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--sun-misc-unsafe-memory-access=allow",
    "-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ModuleBenchmark {
  private static final int ROWS = 4096;
  private static final int IN = 64;
  private static final int HIDDEN = 256;
  private static final int OUT = 16;

  private BufferAllocator allocator;
  private FloatBlock narrow; // ROWS x IN
  private FloatBlock wide; // ROWS x HIDDEN
  private Module linearRelu;
  private Module linearReluSeparate;
  private Module mlp;
  private Module mlpSeparate;
  private BlockPool pool;
  private CallContext pooled;
  private Module geluExact;
  private Module geluTanh;
  private Module layerNorm;
  private Module softmax;
  private FloatBlock ones; // ROWS x OUT
  private FloatBlock onesColumn; // ROWS x 1
  private Linear regression;

  @Setup(Level.Trial)
  public void setUp() {
    allocator = new RootAllocator();
    SplittableRandom random = new SplittableRandom(23);
    narrow = FloatBlock.copyOf(allocator, randoms(random, ROWS * IN), ROWS, IN);
    wide = FloatBlock.copyOf(allocator, randoms(random, ROWS * HIDDEN), ROWS, HIDDEN);
    linearRelu = new Sequential(new Linear(IN, HIDDEN, true, 1L), new ReLU());
    Sequential separate = new Sequential(new Linear(IN, HIDDEN, true, 1L), new ReLU());
    separate.get(1).registerForwardHook((module, input, output, context) -> null);
    linearReluSeparate = separate;
    mlp = new Sequential(new Linear(IN, HIDDEN, true, 1L), new ReLU(), new Linear(HIDDEN, OUT, true, 2L));
    Sequential unfused = new Sequential(new Linear(IN, HIDDEN, true, 1L), new ReLU(), new Linear(HIDDEN, OUT, true, 2L));
    unfused.get(1).registerForwardHook((module, input, output, context) -> null);
    mlpSeparate = unfused;
    pool = new BlockPool(allocator);
    pooled = CallContext.of(ROWS, 0, 0, 0, pool);
    geluExact = new GELU();
    geluTanh = new GELU("tanh");
    layerNorm = new LayerNorm(HIDDEN);
    softmax = new Softmax(-1);
    float[] all = new float[ROWS * OUT];
    java.util.Arrays.fill(all, 1f);
    ones = FloatBlock.copyOf(allocator, all, ROWS, OUT);
    onesColumn = FloatBlock.copyOf(allocator, java.util.Arrays.copyOf(all, ROWS), ROWS, 1);
    regression = new Linear(IN, 1, true, 3L);
    System.out.println("[bench] kernel " + ((Linear) ((Sequential) mlp).get(0)).kernelName() + ", java "
        + Runtime.version());
  }

  private static float[] randoms(SplittableRandom random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) (random.nextDouble() * 4 - 2);
    }
    return values;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    narrow.close();
    wide.close();
    ones.close();
    onesColumn.close();
    pool.close();
    allocator.close();
  }

  private static float run(Module module, FloatBlock x) {
    try (FloatBlock y = module.call(x)) {
      return y.get(0, 0);
    }
  }

  @Benchmark
  public float linearRelu() {
    return run(linearRelu, narrow);
  }

  @Benchmark
  public float linearReluSeparate() {
    return run(linearReluSeparate, narrow);
  }

  @Benchmark
  public float mlp() {
    return run(mlp, narrow);
  }

  @Benchmark
  public float mlpSeparate() {
    return run(mlpSeparate, narrow);
  }

  @Benchmark
  public float mlpPooled() {
    try (FloatBlock y = mlp.call(narrow, pooled)) {
      return y.get(0, 0);
    }
  }

  @Benchmark
  public float geluExact() {
    return run(geluExact, wide);
  }

  @Benchmark
  public float geluTanh() {
    return run(geluTanh, wide);
  }

  @Benchmark
  public float layerNorm() {
    return run(layerNorm, wide);
  }

  @Benchmark
  public float softmax() {
    return run(softmax, wide);
  }

  @Benchmark
  public double mlpRecorded() {
    GradientSums sums = new GradientSums();
    try (GradientTape tape = new GradientTape(allocator, sums)) {
      try (FloatBlock y = mlp.call(narrow, CallContext.of(narrow).withTape(tape))) {
        tape.backward(y, ones);
      }
    }
    return sums.sum(((Linear) ((Sequential) mlp).get(0)).weight())[0];
  }

  @Benchmark
  public double regressionRecorded() {
    GradientSums sums = new GradientSums();
    try (GradientTape tape = new GradientTape(allocator, sums)) {
      try (FloatBlock y = regression.call(narrow, CallContext.of(narrow).withTape(tape))) {
        tape.backward(y, onesColumn);
      }
    }
    return sums.sum(regression.weight())[0];
  }
}
