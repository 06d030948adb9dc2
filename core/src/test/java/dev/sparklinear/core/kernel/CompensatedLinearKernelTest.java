package dev.sparklinear.core.kernel;

import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static dev.sparklinear.core.testing.ReferenceAffine.randomVector;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.ExactAffine;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.testing.ReferenceAffine;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The compensated kernel ({@code Dot2}) against the exact value of each output ({@link ExactAffine}: exact products and
 * an exact sum in {@link BigDecimal}, rounded once to float32 by exact comparison).
 *
 * <p><b>The bound.</b> With {@code u = 2^-24}, {@code gamma(m) = m u / (1 - m u)}, {@code n = in + 1} terms (the bias
 * counts as one more product, {@code b * 1}, which is exact) and {@code A = |b| + sum_k |x_k w_k|}, Ogita, Rump and
 * Oishi ("Accurate sum and dot product", 2005, section 5) show that Dot2's sum and correction before the last rounding,
 * {@code t = s + c} taken exactly, is within {@code delta = gamma(n)^2 A} of the exact value {@code E}. The kernel
 * returns {@code y = RN(t)}, the float32 nearest to {@code t}, so {@code |y - t| <= ulp(y) / 2} and
 * {@code |y - E| <= ulp(y) / 2 + delta}. Against {@code F = RN(E)}: {@code ulp(y) = ulp(F)} unless {@code t} and
 * {@code E} round into different binades; then a power of two lies between them, so within {@code delta} of {@code E},
 * and the spacing on the far side is at most twice the near one: the half-ulp there is at most {@code ulp(F) / 2} plus
 * the distance {@code delta} again. Hence every output must satisfy
 *
 * <pre>{@code
 * |y - E| <= ulp(F) / 2 + 2 delta,   delta = gamma(in + 1)^2 (|b| + sum_k |x_k w_k|)
 * }</pre>
 *
 * (with {@code ulp(F)} the spacing above {@code |F|}, as {@link Math#ulp(float)} gives it). The bound assumes no
 * underflow, which these inputs (products above 1e-20) keep clear of. Relative to {@code A}, {@code delta} is
 * {@code gamma^2}: 1e-13 for 4 inputs, 4e-9 for 1024; for a well-conditioned sum ({@code A} a few times {@code |E|})
 * it is far below half an ulp ({@code 3e-8 |E|}), so {@code y} should be {@code F} except where {@code E} lies within
 * about {@code delta} of the middle of two floats: the test counts the outputs equal to {@code F}, prints the fraction
 * and requires at least 99% where the sum is well-conditioned, 95% where terms of 1e4 cancel to about 1 (some rows
 * there cancel much further, to condition numbers of 1e7 to 1e9, past {@code 1 / u}: Dot2 is then no longer correctly
 * rounded, only within its bound), and only the bound where pairs of terms cancel to a few float32 ulps.
 */
class CompensatedLinearKernelTest {
  private LeakCheckingAllocator allocator;

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void closeAllocator() {
    allocator.close();
  }

  /** How a case's inputs and weights are made. */
  enum Terms {
    /** Uniform weights of scale 1/sqrt(in), inputs of the case's scale: a well-conditioned sum. */
    RANDOM,
    /**
     * Pairs of terms of about +-1e4 that nearly cancel: {@code x[2j+1] = x[2j] (1 + r 2^-14)} rounded, and
     * {@code w[2j+1] = -w[2j]}, so that each pair sums to about 1 and the output to a few units (condition number
     * {@code A / |E|} about 1e5 to 1e6, more on the rows whose pairs happen to cancel each other).
     */
    CANCELLING,
    /**
     * Pairs whose inputs differ by one to three float32 ulps: each pair sums to about 1e-3 from terms of 1e4 (condition
     * number about 1e8, past {@code 1 / u}): only the bound is asserted.
     */
    CANCELLING_TO_ULPS
  }

  record Case(String name, int in, int out, int rows, double inputScale, Terms terms, boolean bias, double minExact) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("1 -> 1", 1, 1, 1031, 3, Terms.RANDOM, true, 0.99),
        new Case("1 -> 1, no bias", 1, 1, 61, 3, Terms.RANDOM, false, 1.0),
        new Case("4 -> 3", 4, 3, 1031, 3, Terms.RANDOM, true, 0.99),
        new Case("64 -> 16", 64, 16, 257, 3, Terms.RANDOM, true, 0.99),
        new Case("300 -> 1", 300, 1, 1031, 3, Terms.RANDOM, true, 0.99),
        new Case("256 -> 256, inputs of scale 100", 256, 256, 33, 100, Terms.RANDOM, true, 0.99),
        new Case("1024 -> 1024", 1024, 1024, 5, 3, Terms.RANDOM, true, 0.99),
        new Case("64 -> 4, terms of 1e4 cancelling to ~1", 64, 4, 257, 100, Terms.CANCELLING, true, 0.95),
        new Case("1000 -> 2, terms of 1e4 cancelling to ~1", 1000, 2, 65, 100, Terms.CANCELLING, false, 0.95),
        new Case("64 -> 4, terms of 1e4 cancelling to ~1e-3", 64, 4, 257, 100, Terms.CANCELLING_TO_ULPS, true, 0));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyOutputIsWithinHalfAnUlpOfTheExactValuePlusDot2sBound(Case c) {
    SplittableRandom random = new SplittableRandom(c.name().hashCode());
    float[][] weight = weights(random, c);
    float[] bias = c.bias() ? randomVector(random, c.out(), 1 / Math.sqrt(c.in())) : null;
    float[][] x = inputs(random, c);
    float[][] y = run(LinearKernels.create(Tensor.of(weight), bias == null ? null : Tensor.of(bias),
        LinearKernels.Precision.COMPENSATED), x);
    float[][] plain = run(LinearKernels.create(Tensor.of(weight), bias == null ? null : Tensor.of(bias),
        LinearKernels.Choice.SCALAR), x);
    double[][] float64 = ReferenceAffine.forward(x, weight, bias);

    double gamma = (c.in() + 1) * 0x1p-24 / (1 - (c.in() + 1) * 0x1p-24);
    int correctlyRounded = 0;
    double maxUlps = 0;
    double maxPlainUlps = 0;
    double maxCondition = 0;
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < c.out(); o++) {
        float b = bias == null ? 0f : bias[o];
        BigDecimal exact = ExactAffine.dot(x[r], weight[o], b);
        float rounded = ExactAffine.roundToFloat(exact);
        double absoluteSum = ExactAffine.absoluteSum(x[r], weight[o], b);
        double delta = gamma * gamma * absoluteSum;
        double halfUlp = Math.ulp(rounded) / 2.0;
        double error = new BigDecimal(y[r][o]).subtract(exact).abs().doubleValue();
        // The double reference, summed in order, is within gamma_53(n) A of the exact value: checks the helper.
        assertThat(Math.abs(float64[r][o] - exact.doubleValue()))
            .as("float64 reference at row %d, output %d", r, o)
            .isLessThanOrEqualTo((c.in() + 2) * 0x1p-53 * absoluteSum);
        assertThat(error)
            .as("%s: |y - exact| at row %d, output %d (y = %s, exact = %s, rounded = %s): half an ulp %s + 2 delta %s",
                c, r, o, y[r][o], exact.toString(), rounded, halfUlp, 2 * delta)
            .isLessThanOrEqualTo(halfUlp + 2 * delta);
        if (y[r][o] == rounded) {
          correctlyRounded++;
        }
        maxUlps = Math.max(maxUlps, error / (2 * halfUlp));
        maxPlainUlps = Math.max(maxPlainUlps,
            new BigDecimal(plain[r][o]).subtract(exact).abs().doubleValue() / (2 * halfUlp));
        maxCondition = Math.max(maxCondition, absoluteSum / Math.abs(exact.doubleValue()));
      }
    }
    int outputs = x.length * c.out();
    double fraction = (double) correctlyRounded / outputs;
    System.out.printf(Locale.ROOT, "[compensated] %s: %d of %d outputs correctly rounded (%.2f%%), max error %.3g ulp"
            + " (float32 kernel: %.3g ulp), max condition number %.3g%n", c, correctlyRounded, outputs,
        100 * fraction, maxUlps, maxPlainUlps, maxCondition);
    assertThat(fraction).as("%s: fraction of outputs equal to the exact value rounded to float32", c)
        .isGreaterThanOrEqualTo(c.minExact());
  }

  @Test
  void aRowGivesTheSameBitsWhateverBlockItIsIn() {
    SplittableRandom random = new SplittableRandom(17);
    int in = 64;
    int out = 16;
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = randomVector(random, out, 0.125);
    // 600 rows: more than one tile (256 rows for 64 -> 16), and a partial group of four at the end.
    float[][] x = randomMatrix(random, 603, in, 3);
    LinearKernel kernel = LinearKernels.create(Tensor.of(weight), Tensor.of(bias), LinearKernels.Precision.COMPENSATED);
    float[][] whole = run(kernel, x);

    for (int blockRows : new int[] {1, 3, 4, 5, 257}) {
      for (int first = 0; first < x.length; first += blockRows) {
        float[][] part = run(kernel, Arrays.copyOfRange(x, first, Math.min(x.length, first + blockRows)));
        for (int r = 0; r < part.length; r++) {
          assertThat(bits(part[r])).as("row %d in a block of %d rows", first + r, blockRows)
              .isEqualTo(bits(whole[first + r]));
        }
      }
    }
  }

  @Test
  void epilogueSeesTheValuesTheKernelWouldStore() {
    SplittableRandom random = new SplittableRandom(5);
    int in = 33;
    int out = 200; // tiles of 81 rows: the epilogue runs on several
    float[][] weight = randomMatrix(random, out, in, 1 / Math.sqrt(in));
    float[] bias = randomVector(random, out, 0.5);
    float[][] x = randomMatrix(random, 250, in, 2);
    x[0][0] = Float.NaN;
    x[1][0] = Float.POSITIVE_INFINITY;
    Arrays.fill(weight[0], 0f);
    bias[0] = -0f;
    Arrays.fill(x[2], -1f);
    LinearKernel kernel = LinearKernels.create(Tensor.of(weight), Tensor.of(bias), LinearKernels.Precision.COMPENSATED);
    float[][] plain = run(kernel, x);
    Epilogue halveThenRelu = (values, from, to) -> {
      for (int i = from; i < to; i++) {
        values[i] = Epilogue.relu(values[i] / 2);
      }
    };

    float[][] relu = run(kernel, x, Epilogue.RELU);
    float[][] halved = run(kernel, x, halveThenRelu);

    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < out; o++) {
        assertThat(Float.floatToRawIntBits(relu[r][o])).as("relu at row %d, output %d", r, o)
            .isEqualTo(Float.floatToRawIntBits(Epilogue.relu(plain[r][o])));
        assertThat(Float.floatToRawIntBits(halved[r][o])).as("halve, relu at row %d, output %d", r, o)
            .isEqualTo(Float.floatToRawIntBits(Epilogue.relu(plain[r][o] / 2)));
      }
    }
  }

  /**
   * NaN propagates (of either sign); an infinite term gives that infinity, not the NaN of its error terms
   * ({@code inf - inf}); so does a sum that overflows; infinities of both signs give NaN; a sum of negative zeros stays
   * {@code -0.0}: in each case what the float32 kernel gives, on every path (a group of four rows and a single row).
   */
  @Test
  void nonFiniteValuesGiveWhatAPlainFloat32SumGives() {
    float max = Float.MAX_VALUE;
    float inf = Float.POSITIVE_INFINITY;
    float nan = Float.NaN;
    float[][] weight = {{1, 0.5f, 0.25f}, {1, 1, 1}, {0, 0, 0}}; // no product overflows: |w| <= 1
    float[] bias = {0.5f, 0f, -0f};
    float[][] x = {
        {nan, 1, 1}, // NaN everywhere, the zero row too: 0 * NaN is NaN
        {inf, 1, 1}, // +inf, +inf, 0 * inf = NaN
        {-inf, 1, 1},
        {inf, -inf, 1}, // inf - inf: NaN
        {max, max, 1}, // the sum overflows: +inf
        {-max, -max, -1}, // -inf
        {max, max, -max}, // overflows before the last term: +inf, as the plain sum
        {-1, -2, -3}, // the zero row: -0.0 + -0.0 + ... = -0.0
        {1, 2, 3}, // a finite row after them: unaffected
    };
    float[][] expected = {
        {nan, nan, nan},
        {inf, inf, nan},
        {-inf, -inf, nan},
        {nan, nan, nan},
        {inf, inf, 0f},
        {-inf, -inf, -0f},
        {inf, inf, 0f},
        {-2.25f, -6f, -0f},
        {3.25f, 6f, 0f},
    };
    LinearKernel compensated =
        LinearKernels.create(Tensor.of(weight), Tensor.of(bias), LinearKernels.Precision.COMPENSATED);
    LinearKernel scalar = LinearKernels.create(Tensor.of(weight), Tensor.of(bias), LinearKernels.Choice.SCALAR);

    // All nine rows (two groups of four, then one alone), and each row alone.
    float[][] together = run(compensated, x);
    for (int r = 0; r < x.length; r++) {
      float[] alone = run(compensated, new float[][] {x[r]})[0];
      float[] plain = run(scalar, new float[][] {x[r]})[0];
      assertThat(canonicalBits(together[r])).as("row %d: %s", r, Arrays.toString(together[r]))
          .isEqualTo(canonicalBits(expected[r]));
      assertThat(canonicalBits(alone)).as("row %d alone", r).isEqualTo(canonicalBits(expected[r]));
      assertThat(canonicalBits(plain)).as("row %d, the float32 kernel", r).isEqualTo(canonicalBits(expected[r]));
    }
  }

  /**
   * A product that overflows float32 is infinite here, as in PyTorch's float32 arithmetic, where the float32 kernels'
   * fused multiply-add keeps it exact: {@code max * 2 + max * -2} is NaN here ({@code inf - inf}) and {@code +inf}
   * there ({@code fma(max, -2, inf)}); neither is the exact 0, which needs more than float32's range.
   */
  @Test
  void aProductThatOverflowsIsInfinite() {
    float max = Float.MAX_VALUE;
    Tensor weight = Tensor.of(new float[][] {{2, -2}, {2, 0}});
    float[][] x = {{max, max}};

    float[] y = run(LinearKernels.create(weight, null, LinearKernels.Precision.COMPENSATED), x)[0];

    assertThat(y[0]).isNaN();
    assertThat(y[1]).isEqualTo(Float.POSITIVE_INFINITY);
  }

  @Test
  void correctedKeepsThePlainSumWhenThereIsNothingToAddOrTheErrorTermsAreNotFinite() {
    assertThat(CompensatedLinearKernel.corrected(1f, 0x1p-30f)).isEqualTo(1f + 0x1p-30f);
    assertThat(CompensatedLinearKernel.corrected(1f, 0x1p-23f)).isEqualTo(Math.nextUp(1f));
    assertThat(Float.floatToRawIntBits(CompensatedLinearKernel.corrected(-0f, 0f)))
        .isEqualTo(Float.floatToRawIntBits(-0f));
    assertThat(CompensatedLinearKernel.corrected(Float.POSITIVE_INFINITY, Float.NaN))
        .isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(CompensatedLinearKernel.corrected(3f, Float.NaN)).isEqualTo(3f);
    assertThat(CompensatedLinearKernel.corrected(Float.NaN, Float.NaN)).isNaN();
  }

  @Test
  void precisionPicksTheKernel() {
    Tensor weight = Tensor.of(new float[][] {{1, 2}, {3, 4}});
    Tensor bias = Tensor.of(new float[] {0.5f, -0.5f});

    LinearKernel compensated = LinearKernels.create(weight, bias, LinearKernels.Precision.COMPENSATED);

    assertThat(compensated.name()).isEqualTo("compensated");
    assertThat(compensated.inFeatures()).isEqualTo(2);
    assertThat(compensated.outFeatures()).isEqualTo(2);
    assertThat(LinearKernels.create(weight, bias, LinearKernels.Precision.FLOAT32).name())
        .isEqualTo(LinearKernels.defaultKernelName());
    assertThat(LinearKernels.kernelNames()).containsExactly("vector", "scalar", "compensated");
    assertThat(run(compensated, new float[][] {{1, 1}, {2, -1}})).isDeepEqualTo(new float[][] {{3.5f, 6.5f}, {0.5f, 1.5f}});
  }

  private static float[][] weights(SplittableRandom random, Case c) {
    float[][] w = randomMatrix(random, c.out(), c.in(), c.terms() == Terms.RANDOM ? 1 / Math.sqrt(c.in()) : 100);
    if (c.terms() != Terms.RANDOM) {
      for (float[] row : w) {
        for (int k = 0; k + 1 < row.length; k += 2) {
          row[k + 1] = -row[k];
        }
      }
    }
    return w;
  }

  private static float[][] inputs(SplittableRandom random, Case c) {
    float[][] x = randomMatrix(random, c.rows(), c.in(), c.inputScale());
    for (float[] row : x) {
      for (int k = 0; k + 1 < row.length; k += 2) {
        switch (c.terms()) {
          case RANDOM -> { }
          case CANCELLING -> row[k + 1] = (float) (row[k] * (1 + (random.nextDouble() * 2 - 1) * 0x1p-14));
          case CANCELLING_TO_ULPS -> {
            boolean up = random.nextBoolean();
            row[k + 1] = row[k];
            for (int steps = 1 + random.nextInt(3); steps > 0; steps--) {
              row[k + 1] = up ? Math.nextUp(row[k + 1]) : Math.nextDown(row[k + 1]);
            }
          }
        }
      }
    }
    return x;
  }

  private float[][] run(LinearKernel kernel, float[][] x) {
    return run(kernel, x, null);
  }

  private float[][] run(LinearKernel kernel, float[][] x, Epilogue epilogue) {
    try (FloatBlock input = FloatBlock.copyOf(allocator, x);
        FloatBlock output = FloatBlock.allocate(allocator, x.length, kernel.outFeatures())) {
      kernel.apply(input, output, epilogue);
      return output.toRows();
    }
  }

  /** The bits of each value, every NaN as the one NaN of {@link Float#floatToIntBits} (the sign of a NaN is moot). */
  private static int[] canonicalBits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToIntBits(values[i]);
    }
    return bits;
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
