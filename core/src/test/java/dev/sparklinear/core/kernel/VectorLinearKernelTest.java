package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.assertWithinFloat32Bound;
import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static dev.sparklinear.core.testing.ReferenceAffine.randomVector;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API kernel against the double-precision reference, within the float32 bound of
 * {@link dev.sparklinear.core.testing.ReferenceAffine}, on every path: narrow ({@code out <= lanes}) reading x in place
 * and copying it, general with whole panels, with a partial panel and a partial last vector, and rows around both
 * micro-tiles and across tiles.
 * The surefire JVM is started with {@code --add-modules jdk.incubator.vector}, so the vector kernel is always available
 * here; {@link #vectorApiIsPresentInTheTestJvm()} fails loudly if it is not.
 */
class VectorLinearKernelTest {
  /** Around the narrow 8-row tile and the general 4-row tile, and one large odd count spanning several tiles. */
  private static final int[] ROW_COUNTS = {0, 1, 3, 4, 5, 7, 8, 9, 17, 1031};

  /**
   * {in, out}. With 16 lanes (AVX-512): narrow for out <= 16; general with one partial vector (17, 5 + 16), whole
   * vectors in a partial panel (32), exactly one panel (64), a panel and a partial one (100, 200), several whole
   * panels (256). The input widths include 1, 3, 17, 33, 100 and a width whose tile is not a multiple of the row tile.
   */
  private static final int[][] SHAPES = {
    {4, 3}, {1, 1}, {3, 16}, {64, 16}, {17, 5}, {100, 1}, {33, 15}, {1000, 7},
    {33, 17}, {17, 32}, {1, 64}, {100, 64}, {3, 100}, {1, 65}, {33, 200}, {256, 256}, {100, 21}
  };

  private LeakCheckingAllocator allocator;

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void closeAllocator() {
    assertThat(allocator.getAllocatedMemory()).as("bytes left allocated by the test").isZero();
    allocator.close();
  }

  static Stream<Arguments> shapes() {
    Stream.Builder<Arguments> cases = Stream.builder();
    for (int[] shape : SHAPES) {
      for (boolean bias : new boolean[] {true, false}) {
        for (int rows : ROW_COUNTS) {
          for (boolean inPlace : new boolean[] {true, false}) {
            cases.add(Arguments.of(shape[0], shape[1], bias, rows, inPlace));
          }
        }
      }
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0} -> {1}, bias={2}, {3} rows, read in place={4}")
  @MethodSource("shapes")
  void matchesDoublePrecisionReference(int in, int out, boolean withBias, int rows, boolean inPlace) {
    SplittableRandom random = new SplittableRandom(1_000_003L * in + 7919L * out + rows + (withBias ? 1 : 0));
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = withBias ? randomVector(random, out, 1 / Math.sqrt(in)) : null;
    float[][] x = randomMatrix(random, rows, in, 3);

    VectorLinearKernel kernel =
        new VectorLinearKernel(Tensor.of(weight), bias == null ? null : Tensor.of(bias), inPlace);
    assertThat(kernel.inFeatures()).isEqualTo(in);
    assertThat(kernel.outFeatures()).isEqualTo(out);
    boolean narrow = out <= VectorLinearKernel.lanes();
    assertThat(kernel.toString())
        .contains(narrow ? "narrow" : "general")
        .contains(narrow && inPlace ? "x in place" : "x copied");

    assertThat(applyOverNaN(kernel, x, in, out)).satisfies(y -> assertWithinFloat32Bound(y, x, weight, bias, 1.0));
  }

  @Test
  void readsNarrowInputsInPlaceByDefault() {
    assertThat(UnsafeMemory.AVAILABLE).as("Unsafe memory access: %s", UnsafeMemory.UNAVAILABLE_REASON).isTrue();
    assertThat(new VectorLinearKernel(Tensor.of(new float[][] {{1, 2}}), null).toString()).contains("x in place");
    assertThat(new VectorLinearKernel(Tensor.of(new float[200][3]), null).toString()).contains("x copied");
  }

  /**
   * The packed weight starts a cache line when a kernel is made, and again in the first call after a garbage
   * collection moved it (young collections copy every live young object, each to wherever the next free space is), with
   * the same output bits. Of 24 kernels moved, the chance that every one landed on a line start by itself is 8^-24, so
   * the test sees the copy being made.
   */
  @Test
  void aWeightMovedByAGarbageCollectionIsCopiedToTheStartOfALine() {
    assertThat(CacheLines.known()).as("array addresses readable on this JVM").isTrue();
    SplittableRandom random = new SplittableRandom(23);
    int[][] shapes = {{64, 16}, {64, 256}, {33, 17}};
    List<VectorLinearKernel> kernels = new ArrayList<>();
    List<float[][]> inputs = new ArrayList<>();
    List<float[][]> before = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      int[] shape = shapes[i % shapes.length];
      VectorLinearKernel kernel = new VectorLinearKernel(
          Tensor.of(randomMatrix(random, shape[1], shape[0], 0.2)), Tensor.of(randomVector(random, shape[1], 0.2)));
      assertThat(kernel.weightStartsALine()).as("kernel %d when made", i).isTrue();
      float[][] x = randomMatrix(random, 13, shape[0], 2);
      kernels.add(kernel);
      inputs.add(x);
      before.add(apply(kernel, x, shape[1]));
    }
    int moved = 0;
    long churned = 0;
    for (int round = 0; round < 10_000 && moved == 0; round++) {
      // Enough short-lived garbage for a few young collections, in arrays of varied sizes.
      for (int j = 0; j < 1000; j++) {
        churned += new long[1 + random.nextInt(4096)].length;
      }
      moved = (int) kernels.stream().filter(kernel -> !kernel.weightStartsALine()).count();
    }
    assertThat(moved).as("kernels whose weight a collection moved off a line start (%d longs churned)", churned)
        .isPositive();
    for (int i = 0; i < kernels.size(); i++) {
      float[][] after = apply(kernels.get(i), inputs.get(i), before.get(i)[0].length);
      assertThat(kernels.get(i).weightStartsALine()).as("kernel %d after a call", i).isTrue();
      for (int r = 0; r < after.length; r++) {
        assertThat(bits(after[r])).as("kernel %d row %d", i, r).containsExactly(bits(before.get(i)[r]));
      }
    }
  }

  private float[][] apply(LinearKernel kernel, float[][] x, int out) {
    try (FloatBlock xb = FloatBlock.copyOf(allocator, x);
        FloatBlock y = FloatBlock.allocate(allocator, x.length, out)) {
      kernel.apply(xb, y);
      return y.toRows();
    }
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  /**
   * A block that wraps rows in the middle of a larger buffer, between rows of NaN: reading in place starts at the
   * block's own address and stops at its last row.
   */
  @Test
  void readsInPlaceOnlyTheRowsOfAWrappedSlice() {
    int in = 9;
    int out = 5;
    int rows = 21;
    SplittableRandom random = new SplittableRandom(11);
    float[][] weight = randomMatrix(random, out, in, 0.3);
    float[] bias = randomVector(random, out, 0.3);
    float[][] x = randomMatrix(random, rows, in, 2);
    float[] padded = new float[(rows + 6) * in];
    Arrays.fill(padded, Float.NaN);
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x[r], 0, padded, (r + 3) * in, in);
    }
    VectorLinearKernel kernel = new VectorLinearKernel(Tensor.of(weight), Tensor.of(bias), true);
    try (FloatBlock whole = FloatBlock.copyOf(allocator, padded, rows + 6, in);
        FloatBlock slice = FloatBlock.wrap(
            whole.buffer().slice(3L * in * FloatBlock.BYTES, (long) rows * in * FloatBlock.BYTES), rows, in);
        FloatBlock y = FloatBlock.allocate(allocator, rows, out)) {
      kernel.apply(slice, y);
      assertWithinFloat32Bound(y.toRows(), x, weight, bias, 1.0);
    }
  }

  /** Reading by address skips the block accessors' checks, so the kernel makes them itself instead of reading past. */
  @Test
  void readingInPlaceRefusesBlocksOfTheWrongShapeOrReleased() {
    VectorLinearKernel kernel = new VectorLinearKernel(Tensor.of(new float[4][8]), null, true);
    try (FloatBlock narrowX = FloatBlock.allocate(allocator, 16, 7);
        FloatBlock x = FloatBlock.allocate(allocator, 16, 8);
        FloatBlock y = FloatBlock.allocate(allocator, 16, 4);
        FloatBlock shortY = FloatBlock.allocate(allocator, 15, 4)) {
      assertThatThrownBy(() -> kernel.apply(narrowX, y))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot apply a 8 -> 4 kernel to a 16x7 block into a 16x4 block");
      assertThatThrownBy(() -> kernel.apply(x, shortY))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot apply a 8 -> 4 kernel to a 16x8 block into a 15x4 block");
    }
    FloatBlock released = FloatBlock.allocate(allocator, 16, 8);
    released.close();
    try (FloatBlock y = FloatBlock.allocate(allocator, 16, 4)) {
      assertThatThrownBy(() -> kernel.apply(released, y))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Cannot read a block whose buffer has been released");
    }
  }

  @Test
  void fourToThreeMatchesHandComputedValues() {
    // y = x W^T + b worked by hand: row 0 is (1, 2, 3, 4) . each weight row, plus the bias.
    float[][] weight = {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}};
    float[] bias = {0.5f, -0.5f, 0f};
    float[][] x = new float[19][];
    for (int r = 0; r < x.length; r++) {
      x[r] = new float[] {1 + r, 2, 3, 4};
    }
    LinearKernel kernel = new VectorLinearKernel(Tensor.of(weight), Tensor.of(bias));

    float[][] y = applyOverNaN(kernel, x, 4, 3);

    for (int r = 0; r < x.length; r++) {
      // Raising x[r][0] by r raises output o by r * W[o][0] = r * (1, 2, 3).
      assertThat(y[r]).as("row %d", r).containsExactly(30.5f + r, 39.5f + 2 * r, 50f + 3 * r);
    }
  }

  @Test
  void reusesItsScratchAcrossCallsOfDifferentSizesAndKernels() {
    SplittableRandom random = new SplittableRandom(42);
    float[][] wideWeight = randomMatrix(random, 70, 300, 0.1);
    float[][] narrowWeight = randomMatrix(random, 3, 4, 0.5);
    LinearKernel wide = new VectorLinearKernel(Tensor.of(wideWeight), null);
    LinearKernel narrow = new VectorLinearKernel(Tensor.of(narrowWeight), null);
    for (int rows : new int[] {5, 1031, 3, 200, 1}) {
      float[][] xWide = randomMatrix(random, rows, 300, 1);
      float[][] xNarrow = randomMatrix(random, rows * 7 + 1, 4, 1);
      assertWithinFloat32Bound(applyOverNaN(wide, xWide, 300, 70), xWide, wideWeight, null, 1.0);
      assertWithinFloat32Bound(applyOverNaN(narrow, xNarrow, 4, 3), xNarrow, narrowWeight, null, 1.0);
    }
  }

  @Test
  void oneKernelServesManyThreadsAtOnce() throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    float[][] weight = randomMatrix(random, 40, 50, 0.2);
    float[] bias = randomVector(random, 40, 0.2);
    LinearKernel kernel = new VectorLinearKernel(Tensor.of(weight), Tensor.of(bias));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int rows = 100 + 37 * t;
        float[][] x = randomMatrix(new SplittableRandom(t), rows, 50, 1);
        results.add(pool.submit(() -> {
          for (int repeat = 0; repeat < 20; repeat++) {
            assertWithinFloat32Bound(applyOverNaN(kernel, x, 50, 40), x, weight, bias, 1.0);
          }
          return null;
        }));
      }
      for (Future<?> result : results) {
        result.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void vectorApiIsPresentInTheTestJvm() {
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector"))
        .as("jdk.incubator.vector in the test JVM (surefire's argLine adds it)")
        .isPresent();
    assertThat(LinearKernels.vectorKernelAvailable()).isTrue();
    assertThat(VectorLinearKernel.lanes()).isGreaterThanOrEqualTo(LinearKernels.MIN_VECTOR_LANES);
  }

  @Test
  void autoChoosesTheVectorKernelWhenTheModuleIsPresent() {
    withKernelProperty(null, () -> {
      assertThat(LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null).name()).isEqualTo("vector");
      assertThat(LinearKernels.defaultKernelName()).isEqualTo("vector");
    });
    withKernelProperty("auto", () ->
        assertThat(LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null))
            .isInstanceOf(VectorLinearKernel.class));
  }

  @Test
  void scalarPropertySelectsTheScalarKernel() {
    withKernelProperty("scalar", () -> {
      LinearKernel kernel = LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null);
      assertThat(kernel).isInstanceOf(BlockedLinearKernel.class);
      assertThat(kernel.name()).isEqualTo("scalar");
      assertThat(LinearKernels.defaultKernelName()).isEqualTo("scalar");
    });
    withKernelProperty("VECTOR", () ->
        assertThat(LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null).name()).isEqualTo("vector"));
  }

  @Test
  void aJvmWithoutTheModuleFallsBackToTheScalarKernel() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(
            java, "-cp", System.getProperty("java.class.path"), KernelChoiceProbe.class.getName())
        .redirectErrorStream(true)
        .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("child JVM finished").isTrue();

    assertThat(process.exitValue()).as("exit code; output: %s", output).isZero();
    assertThat(output.trim()).isEqualTo("kernel=scalar available=false");
  }

  @Test
  void explicitChoiceOverridesTheProperty() {
    withKernelProperty("vector", () -> assertThat(
        LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null, LinearKernels.Choice.SCALAR).name())
        .isEqualTo("scalar"));
  }

  @Test
  void rejectsAnUnknownKernelProperty() {
    withKernelProperty("fast", () ->
        assertThatThrownBy(() -> LinearKernels.create(Tensor.of(new float[][] {{1, 2}}), null))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("Invalid sparklinear.kernel: 'fast' (must be auto, scalar or vector)"));
  }

  @Test
  void parsesChoices() {
    assertThat(LinearKernels.Choice.parse(null)).isEqualTo(LinearKernels.Choice.AUTO);
    assertThat(LinearKernels.Choice.parse(" ")).isEqualTo(LinearKernels.Choice.AUTO);
    assertThat(LinearKernels.Choice.parse("Scalar")).isEqualTo(LinearKernels.Choice.SCALAR);
    assertThat(LinearKernels.Choice.parse(" vector ")).isEqualTo(LinearKernels.Choice.VECTOR);
  }

  private static void withKernelProperty(String value, Runnable body) {
    String previous = System.getProperty(LinearKernels.KERNEL_PROPERTY);
    try {
      if (value == null) {
        System.clearProperty(LinearKernels.KERNEL_PROPERTY);
      } else {
        System.setProperty(LinearKernels.KERNEL_PROPERTY, value);
      }
      body.run();
    } finally {
      if (previous == null) {
        System.clearProperty(LinearKernels.KERNEL_PROPERTY);
      } else {
        System.setProperty(LinearKernels.KERNEL_PROPERTY, previous);
      }
    }
  }

  /** Applies {@code kernel} to {@code x} into an output filled with NaN first, so that a value not written shows. */
  private float[][] applyOverNaN(LinearKernel kernel, float[][] x, int in, int out) {
    float[] flat = new float[x.length * in];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * in, in);
    }
    float[] nan = new float[x.length * out];
    Arrays.fill(nan, Float.NaN);
    try (FloatBlock input = FloatBlock.copyOf(allocator, flat, x.length, in);
        FloatBlock output = FloatBlock.copyOf(allocator, nan, x.length, out)) {
      kernel.apply(input, output);
      return output.toRows();
    }
  }
}
