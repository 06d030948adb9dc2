package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.block.ProgramAllocator;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ModuleArchitecture} against PyTorch's reprs and state dict keys from {@code torch-trees/modules.json} and
 * {@code trees.json}: a module built from PyTorch's class name and constructor arguments must print as PyTorch printed
 * the module made with the same arguments, and must have its state dict keys.
 */
class ModuleArchitectureTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One case of modules.json: a module type with torch's constructor arguments, repr and state dict keys. */
  record ModuleCase(String name, JsonNode node) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<ModuleCase> moduleCases() {
    List<ModuleCase> cases = new ArrayList<>();
    TorchFixtures.read("/torch-trees/modules.json").get("cases")
        .forEach(c -> cases.add(new ModuleCase(c.get("name").textValue(), c)));
    return cases.stream();
  }

  /** An architecture document: the format version, then {@code type} and the given arguments, as torch names them. */
  private static String architecture(String type, JsonNode args) {
    ObjectNode root = JSON.createObjectNode().put("format_version", 1).put("type", type);
    args.fields().forEachRemaining(e -> root.set(e.getKey(), e.getValue()));
    return root.toString();
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------------------------------ module by module

  @ParameterizedTest
  @MethodSource("moduleCases")
  void moduleBuiltFromTorchsArgumentsPrintsAsTorchsAndHasItsStateDictKeys(ModuleCase c) {
    Module module = ModuleArchitecture.fromJson(architecture(c.node.get("type").textValue(), c.node.get("args")));

    assertThat(module).hasToString(c.node.get("repr").textValue());
    List<String> torchKeys = new ArrayList<>();
    c.node.get("state_dict").fieldNames().forEachRemaining(torchKeys::add);
    assertThat(module.stateDict().keySet()).containsExactlyElementsOf(torchKeys);
  }

  @ParameterizedTest
  @MethodSource("moduleCases")
  void writtenArchitectureBuildsAnEqualModule(ModuleCase c) {
    Module original = ModuleArchitecture.fromJson(architecture(c.node.get("type").textValue(), c.node.get("args")));

    String json = ModuleArchitecture.toJson(original);
    Module rebuilt = ModuleArchitecture.fromJson(json);

    assertThat(rebuilt).hasSameClassAs(original).hasToString(original.toString());
    assertThat(rebuilt.stateDict().keySet()).containsExactlyElementsOf(original.stateDict().keySet());
    // Every argument torch was given is written with the same value.
    JsonNode written = parse(json);
    c.node.get("args").fields().forEachRemaining(arg ->
        assertThat(written.get(arg.getKey())).as(arg.getKey()).isEqualTo(arg.getValue()));
  }

  @Test
  void writesEveryArgumentUnderTorchsNamesWithPythonNumbers() {
    Module module = new Sequential(new Linear(48, 32, false), new LayerNorm(32), new GELU("tanh"),
        new BatchNorm1d(32, 1e-3, null, false, true), new Dropout(0.25, true), new Softmax(), new ReLU(true),
        new SiLU(), new Sigmoid(), new Tanh(), new Identity(), new Softmax(1));
    module.eval();

    String json = ModuleArchitecture.toJson(module);

    assertThat(json).isEqualTo("""
        {
          "format_version": 1,
          "type": "Sequential",
          "training": false,
          "children": [
            {
              "type": "Linear",
              "in_features": 48,
              "out_features": 32,
              "bias": false
            },
            {
              "type": "LayerNorm",
              "normalized_shape": 32,
              "eps": 1e-05,
              "elementwise_affine": true,
              "bias": true
            },
            {
              "type": "GELU",
              "approximate": "tanh"
            },
            {
              "type": "BatchNorm1d",
              "num_features": 32,
              "eps": 0.001,
              "momentum": null,
              "affine": false,
              "track_running_stats": true
            },
            {
              "type": "Dropout",
              "p": 0.25,
              "inplace": true
            },
            {
              "type": "Softmax",
              "dim": null
            },
            {
              "type": "ReLU",
              "inplace": true
            },
            {
              "type": "SiLU",
              "inplace": false
            },
            {
              "type": "Sigmoid"
            },
            {
              "type": "Tanh"
            },
            {
              "type": "Identity"
            },
            {
              "type": "Softmax",
              "dim": 1
            }
          ]
        }
        """);
    assertThat(ModuleArchitecture.fromJson(json)).hasToString(module.toString());
  }

  @Test
  void layerNormWithoutBiasKeepsItsMissingBias() {
    LayerNorm norm = new LayerNorm(8, 1e-6, true, false);

    Module rebuilt = ModuleArchitecture.fromJson(ModuleArchitecture.toJson(norm));

    assertThat(parse(ModuleArchitecture.toJson(norm)).get("bias").booleanValue()).isFalse();
    assertThat(rebuilt.stateDict().keySet()).containsExactly("weight");
    assertThat(((LayerNorm) rebuilt).eps()).isEqualTo(1e-6);
  }

  @Test
  void acceptsANormalizedShapeListAndLeavesOutArgumentsAsTorchsDefaults() {
    Module norm = ModuleArchitecture.fromJson("{\"format_version\":1,\"type\":\"LayerNorm\",\"normalized_shape\":[5]}");
    Module dropout = ModuleArchitecture.fromJson("{\"format_version\":1,\"type\":\"Dropout\"}");
    Module batchNorm = ModuleArchitecture.fromJson("{\"format_version\":1,\"type\":\"BatchNorm1d\",\"num_features\":3}");

    assertThat(norm).hasToString("LayerNorm((5,), eps=1e-05, elementwise_affine=True)");
    assertThat(dropout).hasToString("Dropout(p=0.5, inplace=False)");
    assertThat(batchNorm).hasToString("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  }

  // ------------------------------------------------------------------------------------------------ trees

  /** The architectures of the fixture trees, written by hand from make_fixtures.py's torch code. */
  private static final Map<String, String> TREES = Map.of(
      "tree_1", """
          {"format_version": 1, "type": "Sequential", "training": false, "children": [
            {"type": "Linear", "in_features": 48, "out_features": 32},
            {"type": "LayerNorm", "normalized_shape": 32},
            {"type": "GELU"},
            {"type": "Linear", "in_features": 32, "out_features": 8}]}""",
      "tree_2", """
          {"format_version": 1, "type": "Sequential", "training": false, "children": [
            {"type": "Linear", "in_features": 16, "out_features": 32},
            {"type": "BatchNorm1d", "num_features": 32},
            {"type": "ReLU"},
            {"type": "Dropout", "p": 0.2},
            {"type": "Linear", "in_features": 32, "out_features": 4},
            {"type": "Sigmoid"}]}""",
      "tree_3", """
          {"format_version": 1, "type": "Sequential", "training": false, "children": [
            {"type": "Linear", "in_features": 8, "out_features": 16},
            {"type": "Sequential", "children": [
              {"type": "LayerNorm", "normalized_shape": 16},
              {"type": "GELU", "approximate": "tanh"},
              {"type": "Sequential", "children": [
                {"type": "Linear", "in_features": 16, "out_features": 16},
                {"type": "SiLU"}]}]},
            {"type": "Dropout", "p": 0.1},
            {"type": "Linear", "in_features": 16, "out_features": 4},
            {"type": "Tanh"},
            {"type": "Identity"},
            {"type": "Softmax", "dim": -1}]}""");

  static Stream<String> trees() {
    return Stream.of("tree_1", "tree_2", "tree_3");
  }

  @ParameterizedTest
  @MethodSource("trees")
  void treeRebuiltFromItsArchitectureLoadsTorchsFileAndGivesTorchsOutputs(String name) {
    JsonNode tree = null;
    for (JsonNode t : TorchFixtures.read("/torch-trees/trees.json").get("trees")) {
      tree = t.get("name").textValue().equals(name) ? t : tree;
    }
    Module module = ModuleArchitecture.fromJson(ModuleArchitecture.toJson(ModuleArchitecture.fromJson(TREES.get(name))));

    assertThat(module).hasToString(tree.get("repr").textValue());
    assertThat(module.modules()).allSatisfy(m -> assertThat(m.isTraining()).isFalse());
    Map<String, Tensor> state = SafetensorsReader
        .read(TorchFixtures.bytes("/torch-trees/" + name + ".safetensors"), name).tensors();
    module.loadStateDict(state, true);
    float[][] inputs = TorchFixtures.floats(tree.get("inputs"));
    float[][] ours = new float[inputs.length][];
    try (BufferAllocator allocator = ProgramAllocator.newChild("architecture test");
        FloatBlock x = FloatBlock.copyOf(allocator, inputs);
        FloatBlock y = module.call(x)) {
      for (int r = 0; r < inputs.length; r++) {
        ours[r] = y.row(r);
      }
    }
    TorchFixtures.assertNoWorseThanTorch(name, ours, TorchFixtures.floats(tree.get("out32")),
        TorchFixtures.doubles(tree.get("out64")));
  }

  @Test
  void keepsChildNamesOtherThanIndexes() {
    Map<String, Module> named = new LinkedHashMap<>();
    named.put("fc", new Linear(4, 3));
    named.put("act", new ReLU());
    named.put("0", new Linear(3, 2));
    Sequential module = new Sequential(named);

    String json = ModuleArchitecture.toJson(module);
    Module rebuilt = ModuleArchitecture.fromJson(json);

    JsonNode children = parse(json).get("children");
    assertThat(children.get(0).get("name").textValue()).isEqualTo("fc");
    assertThat(children.get(1).get("name").textValue()).isEqualTo("act");
    assertThat(children.get(2).get("name").textValue()).isEqualTo("0"); // index 2, so the name is written
    assertThat(rebuilt.stateDict().keySet()).containsExactly("fc.weight", "fc.bias", "0.weight", "0.bias");
    assertThat(rebuilt).hasToString(module.toString());
  }

  @Test
  void keepsEachModulesTrainingModeWritingOnlyTheChanges() {
    Sequential inner = new Sequential(new Dropout(0.1), new Linear(2, 2));
    Sequential module = new Sequential(new Linear(2, 2), inner, new ReLU());
    module.eval();
    inner.train(true);
    inner.get(0).eval();

    String json = ModuleArchitecture.toJson(module);
    Module rebuilt = ModuleArchitecture.fromJson(json);

    JsonNode root = parse(json);
    assertThat(root.get("training").booleanValue()).isFalse();
    assertThat(root.get("children").get(0).has("training")).isFalse();
    assertThat(root.get("children").get(1).get("training").booleanValue()).isTrue();
    assertThat(root.get("children").get(1).get("children").get(0).get("training").booleanValue()).isFalse();
    assertThat(root.get("children").get(1).get("children").get(1).has("training")).isFalse();
    Map<String, Boolean> expected = new LinkedHashMap<>();
    module.namedModules().forEach((name, m) -> expected.put(name, m.isTraining()));
    Map<String, Boolean> actual = new LinkedHashMap<>();
    rebuilt.namedModules().forEach((name, m) -> actual.put(name, m.isTraining()));
    assertThat(actual).containsExactlyEntriesOf(expected);
    assertThat(expected).containsValues(true, false);
  }

  @Test
  void keepsACompensatedLinearsPrecisionWritingItOnlyThere() {
    Sequential module = new Sequential(new Linear(4, 3), new ReLU(),
        new Linear(3, 2).setPrecision(LinearKernels.Precision.COMPENSATED));

    String json = ModuleArchitecture.toJson(module);
    Module rebuilt = ModuleArchitecture.fromJson(json);

    JsonNode children = parse(json).get("children");
    assertThat(children.get(0).has("precision")).as("a float32 Linear's JSON").isFalse();
    assertThat(children.get(2).get("precision").textValue()).isEqualTo("compensated");
    assertThat(((Linear) ((Sequential) rebuilt).get(0)).precision()).isEqualTo(LinearKernels.Precision.FLOAT32);
    assertThat(((Linear) ((Sequential) rebuilt).get(2)).precision()).isEqualTo(LinearKernels.Precision.COMPENSATED);
    assertThatThrownBy(() -> ModuleArchitecture.fromJson(
        "{\"format_version\":1,\"type\":\"Linear\",\"in_features\":2,\"out_features\":1,\"precision\":\"float64\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("precision=\"float64\"")
        .hasMessageContaining("\"float32\" or \"compensated\"");
  }

  @Test
  void aModuleWithoutTrainingIsInTrainingModeAsTorchBuildsIt() {
    Module module = ModuleArchitecture.fromJson("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"type\":\"ReLU\"}]}");

    assertThat(module.modules()).allSatisfy(m -> assertThat(m.isTraining()).isTrue());
  }

  // ------------------------------------------------------------------------------------------------ errors

  @Test
  void refusesToDescribeAModuleOfAnotherClassNamingIt() {
    Module custom = new Linear(4, 3) {
      private static final long serialVersionUID = 1L;
    };
    Sequential tree = new Sequential(new ReLU(), new Sequential(new Identity(), custom));

    assertThatThrownBy(() -> ModuleArchitecture.toJson(tree))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot save the architecture of module '1.1': its class "
            + custom.getClass().getName() + " is not one of the modules that can be saved (Sequential, Linear, ReLU,"
            + " GELU, SiLU, Sigmoid, Tanh, Identity, Softmax, LayerNorm, BatchNorm1d, Dropout, from"
            + " dev.sparklinear.core.nn, and not subclasses of them");
  }

  @Test
  void refusesToDescribeAModuleThatAppearsTwice() {
    Linear shared = new Linear(2, 2);
    Sequential tree = new Sequential(shared, new ReLU(), shared);

    assertThatThrownBy(() -> ModuleArchitecture.toJson(tree))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot save the architecture of module '2' (Linear): the same module instance"
            + " appears earlier in the tree");
  }

  private static void assertInvalid(String json, String message) {
    assertThatThrownBy(() -> ModuleArchitecture.fromJson(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void refusesAnUnknownTypeListingTheKnownOnes() {
    assertInvalid("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"type\":\"ReLU\"},{\"type\":\"Conv2d\"}]}",
        "Invalid architecture: module '1' has the unknown type 'Conv2d'; the types that can be loaded are Sequential,"
            + " Linear, ReLU, GELU, SiLU, Sigmoid, Tanh, Identity, Softmax, LayerNorm, BatchNorm1d, Dropout");
  }

  @Test
  void refusesAMissingArgument() {
    assertInvalid("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"type\":\"Linear\",\"in_features\":4}]}",
        "Invalid architecture: module '0' (Linear) is missing the argument 'out_features'");
    assertInvalid("{\"format_version\":1,\"type\":\"LayerNorm\"}",
        "Invalid architecture: the root module (LayerNorm) is missing the argument 'normalized_shape'");
  }

  @Test
  void refusesAnArgumentTorchsClassDoesNotTake() {
    assertInvalid("{\"format_version\":1,\"type\":\"Linear\",\"in_features\":4,\"out_features\":3,\"eps\":0.1}",
        "Invalid architecture: the root module (Linear) has the unknown argument 'eps'; Linear takes in_features,"
            + " out_features, bias, precision");
    assertInvalid("{\"format_version\":1,\"type\":\"Tanh\",\"children\":[]}",
        "Invalid architecture: the root module (Tanh) has the unknown field 'children'; Tanh takes no arguments and"
            + " has no children");
  }

  @Test
  void refusesValuesOfTheWrongKind() {
    assertInvalid("{\"format_version\":1,\"type\":\"Linear\",\"in_features\":4.5,\"out_features\":3}",
        "Invalid architecture: the root module (Linear) has in_features=4.5, not an integer");
    assertInvalid("{\"format_version\":1,\"type\":\"Linear\",\"in_features\":4,\"out_features\":3,\"bias\":\"yes\"}",
        "Invalid architecture: the root module (Linear) has bias=\"yes\", not true or false");
    assertInvalid("{\"format_version\":1,\"type\":\"Dropout\",\"p\":\"0.1\"}",
        "Invalid architecture: the root module (Dropout) has p=\"0.1\", not a number");
    assertInvalid("{\"format_version\":1,\"type\":\"ReLU\",\"training\":1}",
        "Invalid architecture: the root module (ReLU) has \"training\" 1, not true or false");
  }

  @Test
  void refusesValuesTheModuleRefusesWithItsMessage() {
    assertInvalid("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"type\":\"Linear\",\"in_features\":-3,\"out_features\":3}]}",
        "Invalid architecture: module '0' (Linear) cannot be built: Invalid in_features: -3 (must be > 0)");
    assertInvalid("{\"format_version\":1,\"type\":\"GELU\",\"approximate\":\"fast\"}",
        "Invalid architecture: the root module (GELU) cannot be built: approximate argument must be either none or"
            + " tanh.");
  }

  @Test
  void refusesDuplicateOrDottedChildNames() {
    assertInvalid("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"name\":\"a\",\"type\":\"ReLU\"},"
            + "{\"name\":\"a\",\"type\":\"Tanh\"}]}",
        "Invalid architecture: module 'a' uses the name 'a' of an earlier child; names must be unique");
    assertInvalid("{\"format_version\":1,\"type\":\"Sequential\",\"children\":[{\"name\":\"a.b\",\"type\":\"ReLU\"}]}",
        "Invalid architecture: module 'a.b' has the name \"a.b\"; a child's name is a non-empty string without dots");
  }

  @Test
  void refusesAnotherFormatVersionAndTextThatIsNotAnArchitecture() {
    assertInvalid("{\"type\":\"ReLU\"}",
        "Invalid architecture: format_version is missing; this version reads format_version 1 (written by"
            + " ModuleArchitecture.toJson)");
    assertInvalid("{\"format_version\":2,\"type\":\"ReLU\"}",
        "Invalid architecture: format_version is 2; this version reads format_version 1 (written by"
            + " ModuleArchitecture.toJson)");
    assertInvalid("[1, 2]", "Invalid architecture: expected a JSON object describing the root module, got array");
    assertThatThrownBy(() -> ModuleArchitecture.fromJson("{\"format_version\":1,"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid architecture: not valid JSON (");
    assertInvalid("{\"format_version\":1}", "Invalid architecture: the root module has no \"type\"");
  }
}
