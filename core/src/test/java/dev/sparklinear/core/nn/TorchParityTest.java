package dev.sparklinear.core.nn;

import static dev.sparklinear.core.testing.ReferenceAffine.assertWithinFloat32Bound;
import static dev.sparklinear.core.testing.ReferenceAffine.float32ErrorBound;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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
 */
class TorchParityTest {
  private static final String FIXTURE = "/torch-parity/linear_cases.json";

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
}
