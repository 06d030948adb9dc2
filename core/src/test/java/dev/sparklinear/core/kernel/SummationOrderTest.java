package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static dev.sparklinear.core.testing.ReferenceAffine.randomVector;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The summation order that {@link LinearKernel} documents, checked bit for bit ({@link Float#floatToRawIntBits}, not
 * within a tolerance): both kernels against {@link #documentedOrder}, which follows the documented steps one output at
 * a time with {@code Math.fma}, on every path of the vector kernel (narrow in place and copied, general with whole and
 * partial panels and vectors), for input widths around the chain lengths, with and without bias and fused epilogues;
 * and a row's output against the block it is computed in (blocks of 1, 7 and 4096 rows and odd splits).
 */
class SummationOrderTest {
  /**
   * Input widths: one chain (1, 3, 31, 32), two to four chains of 32 (33, 63, 64, 65, 127, 128), longer chains whose
   * length is a multiple of four (129 -> 36, 256 -> 64, 300 -> 76, 1000 -> 252) and a last chain shorter than the
   * others (67, 130, 257).
   */
  private static final int[] INS = {1, 3, 31, 32, 33, 63, 64, 65, 67, 127, 128, 129, 130, 256, 257, 300, 1000};
  /** With 16 lanes: narrow (1, 3, 16), a partial vector (17), whole vectors in a partial panel (32), a panel (64). */
  private static final int[] OUTS = {1, 3, 16, 17, 32, 64, 100, 130};
  /** Around the narrow 8-row and general 4-row micro-tiles, and one large odd count spanning several tiles. */
  private static final int[] ROW_COUNTS = {1, 3, 4, 5, 8, 9, 17, 1031};

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

  @Test
  void chainsAreAsDocumented() {
    assertThat(SummationOrder.chainLength(1)).isEqualTo(32);
    assertThat(SummationOrder.chains(1)).isEqualTo(1);
    assertThat(SummationOrder.chains(32)).isEqualTo(1);
    assertThat(SummationOrder.chains(33)).isEqualTo(2);
    assertThat(SummationOrder.chains(64)).isEqualTo(2);
    assertThat(SummationOrder.chains(97)).isEqualTo(4);
    assertThat(SummationOrder.chainLength(128)).isEqualTo(32);
    assertThat(SummationOrder.chainLength(129)).isEqualTo(36);
    assertThat(SummationOrder.chainLength(300)).isEqualTo(76);
    assertThat(SummationOrder.chainLength(1024)).isEqualTo(256);
    for (int in = 1; in <= 5000; in++) {
      int length = SummationOrder.chainLength(in);
      int chains = SummationOrder.chains(in);
      assertThat(chains).as("chains of %d inputs", in).isBetween(1, SummationOrder.MAX_CHAINS);
      assertThat((chains - 1) * length).as("chain starts of %d inputs", in).isLessThan(in);
      assertThat(chains * length).as("chain ends of %d inputs", in).isGreaterThanOrEqualTo(in);
      assertThat(length).as("no chain longer than a quarter plus three, beyond 128 inputs")
          .isLessThanOrEqualTo(Math.max(32, (in + 3) / 4 + 3));
    }
  }

  static Stream<Arguments> shapes() {
    Stream.Builder<Arguments> cases = Stream.builder();
    for (int in : INS) {
      for (int out : OUTS) {
        cases.add(Arguments.of(in, out, true));
        cases.add(Arguments.of(in, out, false));
      }
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0} -> {1}, bias={2}")
  @MethodSource("shapes")
  void bothKernelsComputeTheDocumentedOrderBitForBit(int in, int out, boolean withBias) {
    SplittableRandom random = new SplittableRandom(31L * in + 17L * out + (withBias ? 1 : 0));
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = withBias ? randomVector(random, out, 1 / Math.sqrt(in)) : null;
    for (int rows : ROW_COUNTS) {
      if ((long) rows * in * out > 20_000_000L) {
        continue;
      }
      float[][] x = inputs(random, rows, in);
      float[][] expected = documentedOrder(x, weight, bias, null);
      for (LinearKernel kernel : kernels(weight, bias)) {
        assertSameBits(apply(kernel, x, null), expected, kernel + ", " + rows + " rows");
      }
    }
  }

  /** Fused epilogues see the same values: ReLU (the vector kernel's own compares and blends) and any other function. */
  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("epilogueShapes")
  void fusedEpiloguesGiveTheSameBitsOnBothKernels(int in, int out) {
    SplittableRandom random = new SplittableRandom(in * 1000L + out);
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = randomVector(random, out, 1 / Math.sqrt(in));
    float[][] x = inputs(random, 37, in);
    Epilogue tanh = (values, from, to) -> {
      for (int i = from; i < to; i++) {
        values[i] = (float) Math.tanh(values[i]);
      }
    };
    for (Epilogue epilogue : new Epilogue[] {Epilogue.RELU, tanh}) {
      float[][] expected = documentedOrder(x, weight, bias, epilogue);
      for (LinearKernel kernel : kernels(weight, bias)) {
        assertSameBits(apply(kernel, x, epilogue), expected, kernel + " with " + epilogue);
      }
    }
  }

  static Stream<Arguments> epilogueShapes() {
    return Stream.of(Arguments.of(4, 3), Arguments.of(64, 16), Arguments.of(33, 17), Arguments.of(300, 130));
  }

  /** NaN and infinities in the inputs: the same values appear at the same places (NaN's sign and payload are free). */
  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("epilogueShapes")
  void nonFiniteInputsGiveTheSameValuesOnBothKernels(int in, int out) {
    SplittableRandom random = new SplittableRandom(in * 7L + out);
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = randomVector(random, out, 1 / Math.sqrt(in));
    float[][] x = inputs(random, 19, in);
    x[2][in - 1] = Float.NaN;
    x[5][0] = Float.POSITIVE_INFINITY;
    x[6][in / 2] = Float.NEGATIVE_INFINITY;
    Arrays.fill(x[7], 3e38f); // overflows in the sum: +-infinity, or NaN where chains of both signs overflow
    float[][] expected = documentedOrder(x, weight, bias, null);
    for (LinearKernel kernel : kernels(weight, bias)) {
      assertSameBits(apply(kernel, x, null), expected, kernel.toString());
    }
  }

  /**
   * A row's outputs do not depend on the rows computed with it: the same rows applied as one block of 4096 rows and
   * as blocks of 1, 7, 8, 4095 rows and in uneven pieces give the same bits on both kernels.
   */
  @ParameterizedTest(name = "{0} inputs")
  @ValueSource(ints = {4, 64, 256})
  void rowOutputsDoNotDependOnTheBlock(int in) {
    int out = in == 256 ? 100 : 16;
    int rows = 4096;
    SplittableRandom random = new SplittableRandom(in);
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = randomVector(random, out, 1 / Math.sqrt(in));
    float[][] x = inputs(random, rows, in);
    float[][] expected = documentedOrder(x, weight, bias, null);
    for (LinearKernel kernel : kernels(weight, bias)) {
      assertSameBits(apply(kernel, x, null), expected, kernel + ", one block of " + rows);
      for (int[] sizes : new int[][] {{1}, {7}, {8}, {4095}, {3, 1000, 5, 17}}) {
        float[][] actual = new float[rows][];
        int first = 0;
        for (int i = 0; first < rows; i++) {
          int count = Math.min(sizes[i % sizes.length], rows - first);
          float[][] y = apply(kernel, Arrays.copyOfRange(x, first, first + count), null);
          System.arraycopy(y, 0, actual, first, count);
          first += count;
        }
        assertSameBits(actual, expected, kernel + ", blocks of " + Arrays.toString(sizes));
      }
    }
  }

  /**
   * The order of {@link LinearKernel}'s documentation, one output at a time: chains of {@code L} inputs ({@code L = 32}
   * up to 128 inputs, else {@code 4 ceil(in / 16)}), chain 0 from the bias and the others from +0.0, each a sequence of
   * {@code Math.fma}, combined as {@code c0}, {@code c0 + c1}, {@code (c0 + c1) + c2} or {@code (c0 + c1) + (c2 + c3)};
   * then the epilogue, if any.
   */
  static float[][] documentedOrder(float[][] x, float[][] weight, float[] bias, Epilogue epilogue) {
    int in = weight[0].length;
    int length = in <= 128 ? 32 : 4 * ((in + 15) / 16);
    float[][] y = new float[x.length][weight.length];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < weight.length; o++) {
        float[] c = new float[4];
        int chains = 0;
        for (int from = 0; from < in; from += length) {
          float a = chains == 0 && bias != null ? bias[o] : 0f;
          for (int k = from; k < Math.min(in, from + length); k++) {
            a = Math.fma(x[r][k], weight[o][k], a);
          }
          c[chains++] = a;
        }
        y[r][o] = switch (chains) {
          case 1 -> c[0];
          case 2 -> c[0] + c[1];
          case 3 -> (c[0] + c[1]) + c[2];
          case 4 -> (c[0] + c[1]) + (c[2] + c[3]);
          default -> throw new AssertionError(chains + " chains");
        };
      }
      if (epilogue != null) {
        epilogue.apply(y[r], 0, y[r].length);
      }
    }
    return y;
  }

  /** Both kernels, and the vector kernel's narrow path both reading x in place and copying it. */
  private static LinearKernel[] kernels(float[][] weight, float[] bias) {
    Tensor w = Tensor.of(weight);
    Tensor b = bias == null ? null : Tensor.of(bias);
    return new LinearKernel[] {
      new BlockedLinearKernel(w, b), new VectorLinearKernel(w, b, true), new VectorLinearKernel(w, b, false)
    };
  }

  /**
   * Rows of several scales (so that rounding errors do not all look alike), with exact zeros, negative zeros and a row
   * of zeros, whose output is the bias itself.
   */
  private static float[][] inputs(SplittableRandom random, int rows, int in) {
    float[][] x = new float[rows][in];
    for (int r = 0; r < rows; r++) {
      double scale = Math.pow(10, random.nextInt(-3, 4));
      for (int k = 0; k < in; k++) {
        int kind = random.nextInt(50);
        x[r][k] = kind == 0 ? 0f : kind == 1 ? -0f : (float) ((random.nextDouble() * 2 - 1) * scale);
      }
    }
    if (rows > 3) {
      Arrays.fill(x[3], 0f);
    }
    return x;
  }

  private float[][] apply(LinearKernel kernel, float[][] x, Epilogue epilogue) {
    int in = kernel.inFeatures();
    int out = kernel.outFeatures();
    float[] flat = new float[x.length * in];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * in, in);
    }
    float[] nan = new float[x.length * out];
    Arrays.fill(nan, Float.NaN);
    try (FloatBlock input = FloatBlock.copyOf(allocator, flat, x.length, in);
        FloatBlock output = FloatBlock.copyOf(allocator, nan, x.length, out)) {
      kernel.apply(input, output, epilogue);
      return output.toRows();
    }
  }

  /** Raw bits equal, except that any NaN matches any NaN (Java leaves a computed NaN's sign and payload open). */
  private static void assertSameBits(float[][] actual, float[][] expected, String what) {
    assertThat(actual).as(what).hasNumberOfRows(expected.length);
    for (int r = 0; r < expected.length; r++) {
      for (int o = 0; o < expected[r].length; o++) {
        float a = actual[r][o];
        float e = expected[r][o];
        boolean same = Float.isNaN(e) ? Float.isNaN(a) : Float.floatToRawIntBits(a) == Float.floatToRawIntBits(e);
        if (!same) {
          fail("%s: row %d output %d is %s (0x%08x), the documented order gives %s (0x%08x)", what, r, o, a,
              Float.floatToRawIntBits(a), e, Float.floatToRawIntBits(e));
        }
      }
    }
  }
}
