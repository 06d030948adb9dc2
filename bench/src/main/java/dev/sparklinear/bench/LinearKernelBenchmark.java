package dev.sparklinear.bench;

import dev.ludovic.netlib.blas.NativeBLAS;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.kernel.LinearKernel;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One call of {@code y = x W^T + b} on a block of rows, single-threaded, for each contender:
 *
 * <ul>
 *   <li>{@code vector}: our Vector API kernel, Arrow block in, Arrow block out (copies to and from the heap included);
 *   <li>{@code scalar}: our portable kernel, the same way;
 *   <li>{@code compensated}: the kernel of {@code module.precision: compensated} (Dot2, several float32 operations
 *       per term), the same way: what the extra accuracy costs against {@code scalar}, its float32 counterpart;
 *   <li>{@code openblas}: OpenBLAS {@code sgemm} through dev.ludovic.netlib's JNI binding, on heap arrays (no Arrow
 *       copies: the strictest comparison), with the bias written into {@code y} first and {@code beta = 1};
 *   <li>{@code copyOnly}: only the tile copies between Arrow and the heap that the vector kernel makes, to show what
 *       they cost: x in and y out for the general kernel; y out only for the narrow one, which reads x in place.
 * </ul>
 *
 * <p>The OpenBLAS library is the one named by {@code -Ddev.ludovic.netlib.blas.nativeLibPath} (set by
 * {@code bench/kernel/run.sh}); setup fails unless a library whose name contains {@code openblas} is mapped into the
 * process, so the reference BLAS can never be measured by mistake.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
// The Vector API module, and what Arrow's Netty allocator needs on JDK 17 and on JDK 25 (the flags newer JDKs know
// are ignored by older ones).
@Fork(value = 1, jvmArgsAppend = {
    "-XX:+IgnoreUnrecognizedVMOptions",
    "--add-modules=jdk.incubator.vector",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--sun-misc-unsafe-memory-access=allow",
    "--enable-native-access=ALL-UNNAMED",
    "-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LinearKernelBenchmark {
  /** {@code in x out}. */
  @Param({"4x3", "64x16", "256x256", "1024x1024"})
  public String shape;

  /** Rows per call; 0 means 4096 for layers up to 64 inputs and 1024 for wider ones. */
  @Param("0")
  public int rows;

  private int in;
  private int out;
  private int n;
  private BufferAllocator allocator;
  private FloatBlock x;
  private FloatBlock y;
  private LinearKernel vector;
  private LinearKernel scalar;
  private LinearKernel compensated;
  private NativeBLAS blas;
  private float[] weight; // [out, in] row-major, which is [in, out] column-major for BLAS
  private float[] bias;
  private float[] xs;
  private float[] ys;
  private int copyTileRows;
  /** Whether the vector kernel reads x in place, so that only y is copied (its log name says so). */
  private boolean copiesOnlyY;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    String[] parts = shape.split("x");
    in = Integer.parseInt(parts[0]);
    out = Integer.parseInt(parts[1]);
    n = rows > 0 ? rows : in <= 64 ? 4096 : 1024;

    SplittableRandom random = new SplittableRandom(17);
    weight = new float[out * in];
    bias = new float[out];
    xs = new float[n * in];
    ys = new float[n * out];
    double bound = 1 / Math.sqrt(in);
    for (int i = 0; i < weight.length; i++) {
      weight[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    for (int i = 0; i < out; i++) {
      bias[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) (random.nextDouble() * 2 - 1);
    }

    allocator = new RootAllocator();
    x = FloatBlock.copyOf(allocator, xs, n, in);
    y = FloatBlock.allocate(allocator, n, out);
    Tensor w = new Tensor(weight, out, in);
    Tensor b = Tensor.of(bias);
    vector = LinearKernels.create(w, b, LinearKernels.Choice.VECTOR);
    scalar = LinearKernels.create(w, b, LinearKernels.Choice.SCALAR);
    compensated = LinearKernels.create(w, b, LinearKernels.Precision.COMPENSATED);
    copiesOnlyY = vector.toString().contains("x in place");
    // The vector kernel's tiles: 1024 floats of y when it reads x in place, else 32 Ki floats of x.
    copyTileRows = copiesOnlyY ? Math.max(8, 1024 / out / 8 * 8) : Math.max(8, 32 * 1024 / in);

    blas = NativeBLAS.getInstance();
    openblas(); // loads the library, so that it shows in the process's memory map
    String mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(line -> line.contains("openblas"))
        .map(line -> line.substring(line.lastIndexOf(' ') + 1))
        .distinct()
        .collect(Collectors.joining(", "));
    if (mapped.isEmpty()) {
      throw new IllegalStateException("OpenBLAS is not loaded (dev.ludovic.netlib.blas.nativeLibPath="
          + System.getProperty("dev.ludovic.netlib.blas.nativeLibPath") + "): refusing to measure another BLAS");
    }
    System.out.println("[bench] " + shape + " rows=" + n + " blas=" + blas.getClass().getName() + " mapped="
        + mapped + " vector=" + vector + " java=" + Runtime.version());
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    x.close();
    y.close();
    allocator.close();
  }

  @Benchmark
  public void vector() {
    vector.apply(x, y);
  }

  @Benchmark
  public void scalar() {
    scalar.apply(x, y);
  }

  @Benchmark
  public void compensated() {
    compensated.apply(x, y);
  }

  /** Column-major: y^T [out, n] = (W^T)^T [out, in] * x^T [in, n], with y^T preset to the bias and beta = 1. */
  @Benchmark
  public float[] openblas() {
    for (int r = 0; r < n; r++) {
      System.arraycopy(bias, 0, ys, r * out, out);
    }
    blas.sgemm("T", "N", out, n, in, 1f, weight, in, xs, in, 1f, ys, out);
    return ys;
  }

  @Benchmark
  public float[] copyOnly() {
    for (int first = 0; first < n; first += copyTileRows) {
      int count = Math.min(copyTileRows, n - first);
      if (!copiesOnlyY) {
        x.readRows(first, count, xs, 0);
      }
      y.writeRows(first, count, ys, 0);
    }
    return ys;
  }
}
