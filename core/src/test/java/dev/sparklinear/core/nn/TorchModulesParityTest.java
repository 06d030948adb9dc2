package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every module type against PyTorch: repr, state dict and outputs, from {@code torch-trees/modules.json} (see
 * {@code make_fixtures.py} beside it). Outputs are held to {@link TorchFixtures}' rule: no worse than twice torch's
 * own error against the float64 reference, per row, plus 4 ulp; non-finite values exactly as torch defines them.
 */
class TorchModulesParityTest {
  private static final String FIXTURE = "/torch-trees/modules.json";

  /** One module of the fixture file. */
  record ModuleCase(String name, JsonNode node) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<ModuleCase> cases() {
    List<ModuleCase> cases = new ArrayList<>();
    for (JsonNode c : TorchFixtures.read(FIXTURE).get("cases")) {
      cases.add(new ModuleCase(c.get("name").textValue(), c));
    }
    return cases;
  }

  /** The module torch built from the same constructor arguments, with its defaults for those not given. */
  static Module build(String type, JsonNode args) {
    return switch (type) {
      case "ReLU" -> new ReLU();
      case "GELU" -> args.has("approximate") ? new GELU(args.get("approximate").textValue()) : new GELU();
      case "SiLU" -> new SiLU();
      case "Sigmoid" -> new Sigmoid();
      case "Tanh" -> new Tanh();
      case "Identity" -> new Identity();
      case "Dropout" -> new Dropout(args.get("p").doubleValue());
      case "Softmax" -> args.has("dim") ? new Softmax(args.get("dim").intValue()) : new Softmax();
      case "LayerNorm" -> args.size() == 1
          ? new LayerNorm(args.get("normalized_shape").intValue())
          : new LayerNorm(args.get("normalized_shape").intValue(), args.get("eps").doubleValue(),
              args.get("elementwise_affine").booleanValue());
      case "BatchNorm1d" -> args.size() == 1
          ? new BatchNorm1d(args.get("num_features").intValue())
          : new BatchNorm1d(args.get("num_features").intValue(), args.get("eps").doubleValue(), 0.1,
              args.get("affine").booleanValue(), true);
      default -> throw new AssertionError("no module type " + type + " in the test");
    };
  }

  @Test
  void fixtureCoversEveryModuleType() {
    assertThat(cases()).extracting(c -> c.node().get("type").textValue()).contains("ReLU", "GELU", "SiLU", "Sigmoid",
        "Tanh", "Softmax", "LayerNorm", "BatchNorm1d", "Dropout", "Identity");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void reprIsTorchs(ModuleCase c) {
    assertThat(build(c.node().get("type").textValue(), c.node().get("args"))).hasToString(c.node().get("repr").textValue());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void stateDictHasTorchsKeysShapesAndDtypes(ModuleCase c) {
    Module module = build(c.node().get("type").textValue(), c.node().get("args"));
    Map<String, Tensor> torch = TorchFixtures.stateDict(c.node().get("state_dict"));
    Map<String, Tensor> ours = module.stateDict();

    assertThat(ours.keySet()).containsExactlyElementsOf(torch.keySet());
    torch.forEach((key, value) -> {
      assertThat(ours.get(key).shape()).as(key).containsExactly(value.shape());
      assertThat(ours.get(key).dtype()).as(key).isEqualTo(value.dtype());
    });
    assertThat(module.loadStateDict(torch, true).isEmpty()).isTrue();
    module.stateDict().forEach((key, value) -> {
      assertThat(value.toArray()).as("%s as loaded", key).containsExactly(torch.get(key).toArray());
      assertThat(value.toLongArray()).as("%s as loaded", key).containsExactly(torch.get(key).toLongArray());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void outputIsNoWorseThanTorchsAgainstFloat64(ModuleCase c) {
    Module module = build(c.node().get("type").textValue(), c.node().get("args"));
    module.loadStateDict(TorchFixtures.stateDict(c.node().get("state_dict")), true);
    module.eval();
    float[][] inputs = TorchFixtures.floats(c.node().get("inputs"));
    float[][] ours;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, inputs);
        FloatBlock y = module.call(x)) {
      ours = y.toRows();
      assertThat(Arrays.deepEquals(x.toRows(), inputs)).as("the input is not changed (NaN included)").isTrue();
    }
    TorchFixtures.Errors errors = TorchFixtures.assertNoWorseThanTorch(c.name(), ours,
        TorchFixtures.floats(c.node().get("out32")), TorchFixtures.doubles(c.node().get("out64")));
    System.out.println(c.name() + ": " + errors);
  }
}
