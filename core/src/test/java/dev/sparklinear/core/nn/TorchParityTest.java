package dev.sparklinear.core.nn;

import static dev.sparklinear.core.testing.ReferenceAffine.assertWithinFloat32Bound;
import static dev.sparklinear.core.testing.ReferenceAffine.float32ErrorBound;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.kernel.LinearKernel;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.testing.ReferenceAffine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Linear} against outputs computed by PyTorch ({@code torch.nn.Linear} in float32), read from
 * {@code torch-parity/linear_cases.json}; {@code make_fixtures.py} next to it says how the file was made.
 *
 * <p><b>Tolerance.</b> PyTorch and this project both compute in float32 but may add the products in different orders
 * (PyTorch's BLAS blocks and vectorises the sum). Each result is within {@code gamma(in + 1) * (sum_k |x_k w_k| + |b|)}
 * of the exact value (see {@link dev.sparklinear.core.testing.ReferenceAffine}), so the two are within twice that of
 * each other. The bound scales with the sum of absolute terms, so the rows of large magnitude (x1000) in the fixtures
 * are held to the same relative standard as the others.
 *
 * <p><b>Error against PyTorch's.</b> On the layers of {@code torch-parity/exactness.json} (64 -> 16, 300 -> 1,
 * 256 -> 256 on inputs of scale 100, 1 -> 1, 1024 -> 1024), both kernels' largest error against the float64 value is
 * at most torch's own largest error on the same case: the summation order of
 * {@link dev.sparklinear.core.kernel.LinearKernel} has a smaller error bound than torch's one chain.
 */
class TorchParityTest {
  private static final String FIXTURE = "/torch-parity/linear_cases.json";
  private static final String EXACTNESS = "/torch-parity/exactness.json";

  /** One layer of the fixture file with its inputs and PyTorch's outputs. */
  record TorchCase(
      String name, int in, int out, float[][] weight, float[] bias, float[][] inputs, float[][] outputs) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static JsonNode fixture() {
    try (InputStream stream = TorchParityTest.class.getResourceAsStream(FIXTURE)) {
      assertThat(stream).as("test resource %s", FIXTURE).isNotNull();
      return new ObjectMapper().readTree(stream);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + FIXTURE, e);
    }
  }

  static List<TorchCase> cases() {
    List<TorchCase> cases = new ArrayList<>();
    for (JsonNode c : fixture().get("cases")) {
      boolean hasBias = c.get("has_bias").booleanValue();
      cases.add(new TorchCase(
          c.get("name").textValue(),
          c.get("in_features").intValue(),
          c.get("out_features").intValue(),
          matrix(c.get("weight")),
          hasBias ? vector(c.get("bias")) : null,
          matrix(c.get("inputs")),
          matrix(c.get("outputs"))));
    }
    return cases;
  }

  /** Each number was written as the shortest repr of a float32 widened to double: narrowing gives the exact bits. */
  private static float[] vector(JsonNode array) {
    float[] v = new float[array.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) array.get(i).doubleValue();
    }
    return v;
  }

  private static float[][] matrix(JsonNode rows) {
    float[][] m = new float[rows.size()][];
    for (int r = 0; r < m.length; r++) {
      m[r] = vector(rows.get(r));
    }
    return m;
  }

  private static Linear loadInto(TorchCase c) {
    // Deliberately a different initialisation: every value must come from the state dict.
    Linear fc = new Linear(c.in(), c.out(), c.bias() != null, 12345L);
    Map<String, Tensor> stateDict = new LinkedHashMap<>();
    stateDict.put("weight", Tensor.of(c.weight()));
    if (c.bias() != null) {
      stateDict.put("bias", Tensor.of(c.bias()));
    }
    assertThat(fc.loadStateDict(stateDict, true).isEmpty()).isTrue();
    return fc;
  }

  @Test
  void fixtureCoversTheShapesOfTheKernelTests() {
    JsonNode fixture = fixture();
    assertThat(fixture.get("torch_version").textValue()).isNotBlank();
    assertThat(fixture.get("dtype").textValue()).isEqualTo("float32");
    assertThat(cases()).extracting(TorchCase::name).contains(
        "linear_4x3_bias", "linear_4x3_nobias", "linear_7x5_bias", "linear_33x17_nobias", "linear_64x16_bias");
    for (TorchCase c : cases()) {
      assertThat(c.weight()).as(c.name()).hasNumberOfRows(c.out());
      assertThat(c.weight()[0]).as(c.name()).hasSize(c.in());
      assertThat(c.outputs()).as(c.name()).hasNumberOfRows(c.inputs().length);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void blockOutputMatchesTorch(TorchCase c) {
    Linear fc = loadInto(c);
    float[][] actual;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, c.inputs());
        FloatBlock y = fc.call(x)) {
      actual = y.toRows();
    }

    double[][] bound = float32ErrorBound(c.inputs(), c.weight(), c.bias());
    assertThat(actual).hasNumberOfRows(c.outputs().length);
    for (int r = 0; r < actual.length; r++) {
      for (int o = 0; o < c.out(); o++) {
        double difference = Math.abs(actual[r][o] - c.outputs()[r][o]);
        assertThat(difference)
            .as("%s row %d output %d: java %s, torch %s", c.name(), r, o, actual[r][o], c.outputs()[r][o])
            .isLessThanOrEqualTo(2 * bound[r][o]);
      }
    }
    assertWithinFloat32Bound(actual, c.inputs(), c.weight(), c.bias(), 1.0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void torchOutputsAreWithinTheFloat32BoundOfTheReference(TorchCase c) {
    // Checks the fixture and its reading: if this fails, the file or the parser is wrong, not the layer.
    assertWithinFloat32Bound(c.outputs(), c.inputs(), c.weight(), c.bias(), 1.0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void vectorCallMatchesTorchOnZeroInputExactly(TorchCase c) {
    // The fixtures' last row is all zeros: both sides then return the bias (or zeros) with no rounding at all.
    float[][] inputs = c.inputs();
    float[] zeros = inputs[inputs.length - 1];
    assertThat(zeros).containsOnly(0f);
    assertThat(loadInto(c).call(zeros)).containsExactly(c.outputs()[inputs.length - 1]);
  }

  /** A layer of {@code exactness.json}: its weight, bias and inputs regenerated, torch's float32 outputs read. */
  record ExactnessCase(String name, float[][] weight, float[] bias, float[][] inputs, float[][] torch, JsonNode json) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<ExactnessCase> exactnessCases() {
    List<ExactnessCase> cases = new ArrayList<>();
    for (JsonNode c : TorchFixtures.read(EXACTNESS).get("cases")) {
      int in = c.get("in_features").intValue();
      int out = c.get("out_features").intValue();
      int rows = c.get("rows").intValue();
      float[] weightAndBias = uniformFloats(c.get("weight_seed").longValue(), out * in + out, 1 / Math.sqrt(in));
      float[] inputs = uniformFloats(c.get("input_seed").longValue(), rows * in, c.get("input_scale").doubleValue());
      ByteBuffer torch = ByteBuffer.wrap(TorchFixtures.bytes("/torch-parity/" + c.get("outputs_file").textValue()))
          .order(ByteOrder.LITTLE_ENDIAN);
      assertThat(torch.remaining()).as("%s bytes", c.get("outputs_file")).isEqualTo(rows * out * Float.BYTES);
      float[][] torchRows = new float[rows][out];
      for (float[] row : torchRows) {
        torch.asFloatBuffer().get(row);
        torch.position(torch.position() + out * Float.BYTES);
      }
      cases.add(new ExactnessCase(c.get("name").textValue(), rows(weightAndBias, 0, out, in),
          Arrays.copyOfRange(weightAndBias, out * in, out * in + out), rows(inputs, 0, rows, in), torchRows, c));
    }
    return cases;
  }

  static Stream<Arguments> exactnessCasesAndKernels() {
    return exactnessCases().stream().flatMap(c -> Stream.of(
        Arguments.of(c, LinearKernels.Choice.SCALAR), Arguments.of(c, LinearKernels.Choice.VECTOR)));
  }

  @Test
  void exactnessFixtureHasTheLayersOfTheIssue() {
    assertThat(TorchFixtures.read(EXACTNESS).get("torch_version").textValue()).startsWith("1.13");
    assertThat(exactnessCases()).extracting(ExactnessCase::name).containsExactly(
        "exact_64x16", "exact_300x1", "exact_256x256_scale100", "exact_1x1", "exact_1024x1024");
  }

  /**
   * Checks the regenerated layer and inputs and torch's outputs: the float64 reference computed here sums to what
   * torch's float64 run summed to, and torch's largest error against it is the one the script measured.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("exactnessCases")
  void exactnessFixtureIsRegeneratedExactly(ExactnessCase c) {
    double[][] reference = ReferenceAffine.forward(c.inputs(), c.weight(), c.bias());
    double sum = 0;
    double absSum = 0;
    for (double[] row : reference) {
      for (double v : row) {
        sum += v;
        absSum += Math.abs(v);
      }
    }
    double absSumExpected = c.json().get("reference_abs_sum").doubleValue();
    assertThat(absSum).isCloseTo(absSumExpected, within(1e-9 * absSumExpected));
    assertThat(sum).isCloseTo(c.json().get("reference_sum").doubleValue(), within(1e-9 * absSumExpected));
    double torchError = maxError(c.torch(), reference);
    assertThat(torchError).isCloseTo(c.json().get("torch_max_error").doubleValue(), within(1e-6 * torchError));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("exactnessCasesAndKernels")
  void errorAgainstFloat64IsNoWorseThanTorchs(ExactnessCase c, LinearKernels.Choice choice) {
    LinearKernel kernel = LinearKernels.create(Tensor.of(c.weight()), Tensor.of(c.bias()), choice);
    float[][] ours;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, c.inputs());
        FloatBlock y = FloatBlock.allocate(allocator, c.inputs().length, c.weight().length)) {
      kernel.apply(x, y);
      ours = y.toRows();
    }
    double[][] reference = ReferenceAffine.forward(c.inputs(), c.weight(), c.bias());
    double oursError = maxError(ours, reference);
    double torchError = maxError(c.torch(), reference);
    System.out.printf("[exactness] %s %s: max |ours - float64| %.4g, torch %.4g (%.2fx)%n", c.name(), kernel.name(),
        oursError, torchError, oursError / torchError);
    assertThat(oursError).as("%s, %s kernel: max |ours - float64| against torch's", c.name(), kernel.name())
        .isLessThanOrEqualTo(torchError);
  }

  private static double maxError(float[][] actual, double[][] reference) {
    double max = 0;
    for (int r = 0; r < reference.length; r++) {
      for (int o = 0; o < reference[r].length; o++) {
        max = Math.max(max, Math.abs(actual[r][o] - reference[r][o]));
      }
    }
    return max;
  }

  private static float[][] rows(float[] values, int offset, int rows, int cols) {
    float[][] m = new float[rows][];
    for (int r = 0; r < rows; r++) {
      m[r] = Arrays.copyOfRange(values, offset + r * cols, offset + (r + 1) * cols);
    }
    return m;
  }

  /**
   * {@code make_fixtures.py}'s {@code uniform_float32}: SplitMix64 from {@code seed} (as {@link
   * java.util.SplittableRandom} mixes), the top 24 bits as a value in [-1, 1) exact in float32, times {@code scale} in
   * double, rounded once to float32. Python computes the same operations, so the same bits.
   */
  private static float[] uniformFloats(long seed, int count, double scale) {
    float[] values = new float[count];
    long state = seed;
    for (int i = 0; i < count; i++) {
      state += 0x9E3779B97F4A7C15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
      double unit = ((z >>> 40) - (1 << 23)) / (double) (1 << 23);
      values[i] = (float) (unit * scale);
    }
    return values;
  }
}
