package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code module.layers}, {@code module.weights.tensors} and {@code hooks.layers}: the spellings and every message. */
class LayerConfigTest {
  private static final String SOURCE = "conf/l.yaml";

  /** The list of the issue, with its weights in a safetensors file. */
  private static final String ISSUE_EXAMPLE = """
      module:
        layers:
          - {type: linear, in-features: 48, out-features: 32}
          - {type: layer-norm, normalized-shape: 32}
          - {type: gelu}
          - {type: batch-norm-1d, num-features: 32}
          - {type: dropout, p: 0.2}
          - {type: relu}
          - {type: linear, in-features: 32, out-features: 8, bias: false}
        weights:
          format: safetensors
          path: head.safetensors
          prefix: "head."
      """;

  private static String config(String module) {
    return module + """
        input: {path: in.parquet, column: features}
        output: {path: out/l}
        """;
  }

  private static JobConfig parse(String module, String... overrides) {
    return JobConfig.parse(config(module), SOURCE, List.of(overrides));
  }

  private static List<String> problems(String module, String... overrides) {
    return catchThrowableOfType(ConfigException.class, () -> parse(module, overrides)).problems();
  }

  /** A module section of one list of layers, given in YAML flow style. */
  private static String layers(String list) {
    return "module: {layers: " + list + "}\n";
  }

  @Test
  void readsTheIssuesSpellingAsTorchsSequential() {
    JobConfig config = parse(ISSUE_EXAMPLE);

    assertThat(config.module().layers()).containsExactly(new Layer.Linear(48, 32, null),
        new Layer.LayerNorm(32, null, null, null), new Layer.Gelu(null), new Layer.BatchNorm1d(32, null, null),
        new Layer.Dropout(0.2), new Layer.Relu(), new Layer.Linear(32, 8, false));
    assertThat(config.module().widths()).containsExactly(48, 32, 32, 32, 32, 32, 32, 8);
    assertThat(config.module().inputWidth()).isEqualTo(48);
    assertThat(config.module().outputWidth()).isEqualTo(8);
    // The repr printed by torch 1.13 for the same nn.Sequential.
    assertThat(Layer.sequential(config.module().layers(), 1L)).hasToString("""
        Sequential(
          (0): Linear(in_features=48, out_features=32, bias=True)
          (1): LayerNorm((32,), eps=1e-05, elementwise_affine=True)
          (2): GELU(approximate='none')
          (3): BatchNorm1d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
          (4): Dropout(p=0.2, inplace=False)
          (5): ReLU()
          (6): Linear(in_features=32, out_features=8, bias=False)
        )""");
    assertThat(config.resolved().get("module.layers")).isEqualTo(List.of("linear {in-features: 48, out-features: 32}",
        "layer-norm {normalized-shape: 32}", "gelu", "batch-norm-1d {num-features: 32}", "dropout {p: 0.2}", "relu",
        "linear {in-features: 32, out-features: 8, bias: false}"));
  }

  @Test
  void everyTypeTakesTorchsArguments() {
    JobConfig config = parse(layers("""
        [{type: layer-norm, normalized-shape: 4, eps: 1.0e-6, elementwise-affine: false}, {type: gelu, approximate:
        tanh}, silu, sigmoid, tanh, {type: softmax, dim: -1}, identity, {type: batch-norm-1d, num-features: 4, eps:
        0.001, affine: false}, softmax]"""));

    // The repr printed by torch 1.13 for the same nn.Sequential.
    assertThat(Layer.sequential(config.module().layers(), null)).hasToString("""
        Sequential(
          (0): LayerNorm((4,), eps=1e-06, elementwise_affine=False)
          (1): GELU(approximate='tanh')
          (2): SiLU()
          (3): Sigmoid()
          (4): Tanh()
          (5): Softmax(dim=-1)
          (6): Identity()
          (7): BatchNorm1d(4, eps=0.001, momentum=0.1, affine=False, track_running_stats=True)
          (8): Softmax(dim=None)
        )""");
    assertThat(config.module().widths()).containsOnly(4);
  }

  @Test
  void layersNeedNeitherInFeaturesNorOutFeatures() {
    JobConfig config = parse(layers("[relu, {type: linear, in-features: 3, out-features: 2}, tanh]"));

    assertThat(config.module().inFeatures()).isNull();
    assertThat(config.module().widths()).containsExactly(3, 3, 2, 2);
  }

  @Test
  void rejectsBothFormsInOneMessage() {
    assertThat(problems("""
        module:
          in-features: 4
          out-features: 3
          layers: [{type: linear, in-features: 4, out-features: 3}]
        """)).containsExactly("Both module.layers and module.in-features, module.out-features are set in conf/l.yaml;"
        + " describe the module one way: module.layers for a list of layers, or module.in-features,"
        + " module.out-features and module.bias for a single Linear");
    assertThat(problems(layers("[{type: linear, in-features: 4, out-features: 3}]"), "module.bias=false"))
        .containsExactly("Both module.layers and module.bias are set in conf/l.yaml; describe the module one way:"
            + " module.layers for a list of layers, or module.in-features, module.out-features and module.bias for a"
            + " single Linear");
  }

  @Test
  void neitherFormAsksForTheSingleLinearsKeys() {
    assertThat(problems("module: {init-seed: 3}\n")).containsExactly(
        "Missing required key 'module.in-features' in conf/l.yaml; add it, or pass --set"
            + " module.in-features=<positive integer>",
        "Missing required key 'module.out-features' in conf/l.yaml; add it, or pass --set"
            + " module.out-features=<positive integer>");
  }

  @Test
  void rejectsAWidthMismatchNamingBothLayers() {
    assertThat(problems(layers("""
        [{type: linear, in-features: 48, out-features: 32}, {type: layer-norm, normalized-shape: 32},
         {type: linear, in-features: 30, out-features: 8}, gelu, {type: batch-norm-1d, num-features: 6}]""")))
        .containsExactly(
            "module.layers[2] (linear) takes in-features 30, but module.layers[1] (layer-norm) gives 32 (in"
                + " conf/l.yaml); make the widths along the list agree",
            "module.layers[4] (batch-norm-1d) takes num-features 6, but module.layers[2] (linear) gives 8 (in"
                + " conf/l.yaml); make the widths along the list agree");
  }

  @Test
  void rejectsAListWithoutAWidth() {
    assertThat(problems(layers("[]"))).containsExactly("module.layers in conf/l.yaml is empty; the module needs at"
        + " least one linear, layer-norm or batch-norm-1d layer to fix its widths");
    assertThat(problems(layers("[relu, {type: dropout, p: 0.5}]"))).containsExactly("module.layers in conf/l.yaml has"
        + " no layer of a known width; the module needs at least one linear, layer-norm or batch-norm-1d layer to fix"
        + " its widths");
  }

  @Test
  void rejectsUnknownLayerTypeNamingTheNearest() {
    assertThat(problems(layers("[{type: lnear, in-features: 4, out-features: 3}, layernorm, conv2d]")))
        .containsExactly("module.layers[0] in conf/l.yaml: unknown layer type 'lnear'; did you mean 'linear'?",
            "module.layers[1] in conf/l.yaml: unknown layer type 'layernorm'; did you mean 'layer-norm'?",
            "module.layers[2] in conf/l.yaml: unknown layer type 'conv2d'; the layer types are linear, layer-norm,"
                + " batch-norm-1d, gelu, relu, silu, sigmoid, tanh, softmax, dropout, identity");
  }

  @Test
  void rejectsEntriesOfTheWrongShape() {
    assertThat(problems(layers("[5, {in-features: 4}, {type: linear, class: a.B, in-features: 4, out-features: 3}]")))
        .containsExactly(
            "module.layers[0] in conf/l.yaml must be a layer name such as relu, or a map with a type, got 5",
            "module.layers[1] in conf/l.yaml needs a type (e.g. {type: linear, in-features: 4, out-features: 3});"
                + " got {in-features: 4}",
            "module.layers[2] (linear) in conf/l.yaml: unknown parameter 'class'; linear takes in-features,"
                + " out-features, bias");
    assertThat(problems("module: {layers: relu}\n")).containsExactly("module.layers in conf/l.yaml must be a list of"
        + " layers, e.g. [{type: linear, in-features: 4, out-features: 3}, relu], got 'relu'");
  }

  @Test
  void rejectsParametersOfTheWrongType() {
    assertThat(problems(layers("""
        [{type: linear, in-features: "48", out-features: 3.5, bias: 1}, {type: layer-norm, normalized-shape: 3, eps:
        small}, {type: gelu, approximate: fast}, {type: linear, in_features: 3, out-features: 2}]""")))
        .containsExactly(
            "module.layers[0] (linear) in conf/l.yaml: parameter 'in-features' must be an integer, got '48'",
            "module.layers[0] (linear) in conf/l.yaml: parameter 'out-features' must be an integer, got 3.5",
            "module.layers[0] (linear) in conf/l.yaml: parameter 'bias' must be true or false, got 1",
            "module.layers[1] (layer-norm) in conf/l.yaml: parameter 'eps' must be a number, got 'small'",
            "module.layers[2] (gelu) in conf/l.yaml: parameter 'approximate' must be one of [none, tanh], got 'fast'",
            "module.layers[3] (linear) in conf/l.yaml: unknown parameter 'in_features'; did you mean 'in-features'?"
                + " linear takes in-features, out-features, bias");
  }

  @Test
  void rejectsMissingAndOutOfRangeArgumentsInTorchsWordsWhereTorchHasThem() {
    assertThat(problems(layers("""
        [{type: linear, in-features: 4}, {type: linear, in-features: 0, out-features: 3}, layer-norm,
         {type: dropout, p: 1.5}, {type: dropout, p: -0.1}, {type: softmax, dim: 2}]""")))
        .containsExactly(
            "module.layers[0] (linear) in conf/l.yaml: needs in-features and out-features, e.g. {type: linear,"
                + " in-features: 48, out-features: 32}",
            "module.layers[1] (linear) in conf/l.yaml: parameter 'in-features' must be a positive integer, got 0",
            "module.layers[2] (layer-norm) in conf/l.yaml: needs normalized-shape, e.g. {type: layer-norm,"
                + " normalized-shape: 32}",
            "module.layers[3] (dropout) in conf/l.yaml: dropout probability has to be between 0 and 1, but got 1.5",
            "module.layers[4] (dropout) in conf/l.yaml: dropout probability has to be between 0 and 1, but got -0.1",
            "module.layers[5] (softmax) in conf/l.yaml: Dimension out of range (expected to be in range of [-2, 1],"
                + " but got 2)");
  }

  @Test
  void npyIsASingleLinearFormat() {
    assertThat(problems("""
        module:
          layers: [{type: linear, in-features: 4, out-features: 3}]
          weights: {format: npy, path: w.npy}
        """)).containsExactly("module.weights.format in conf/l.yaml is npy, which holds the weight and bias of a single"
        + " Linear; with module.layers use safetensors (the module's state dict, keys 0.weight, 0.bias, ...) or inline"
        + " module.weights.tensors");
  }

  @Test
  void readsInlineTensorsByStateDictKey() {
    JobConfig config = parse("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 3}, {type: batch-norm-1d, num-features: 3}]
          weights:
            tensors:
              "0.weight": [[1, 0], [0, 1], [1, 1]]
              "0.bias": [0, 0, -1]
              1: {weight: [1, 1, 1], bias: [0, 0, 0], running_mean: [1, 1, 1], running_var: [4, 4, 4]}
              1.num_batches_tracked: 7
        """);

    assertThat(config.module().weights().tensors()).containsExactly(
        Map.entry("0.weight", new InlineTensor(List.of(3, 2), List.of(1f, 0f, 0f, 1f, 1f, 1f))),
        Map.entry("0.bias", new InlineTensor(List.of(3), List.of(0f, 0f, -1f))),
        Map.entry("1.weight", new InlineTensor(List.of(3), List.of(1f, 1f, 1f))),
        Map.entry("1.bias", new InlineTensor(List.of(3), List.of(0f, 0f, 0f))),
        Map.entry("1.running_mean", new InlineTensor(List.of(3), List.of(1f, 1f, 1f))),
        Map.entry("1.running_var", new InlineTensor(List.of(3), List.of(4f, 4f, 4f))),
        Map.entry("1.num_batches_tracked", new InlineTensor(List.of(), List.of(7f))));
    assertThat(config.resolved().get("module.weights.tensors")).isInstanceOfSatisfying(Map.class, shown -> assertThat(
        shown).containsEntry("0.weight", "tensor [3, 2]").containsEntry("1.num_batches_tracked", "tensor []"));
  }

  @Test
  void rejectsInlineTensorsThatDoNotFitInTorchsWords() {
    List<String> problems = problems("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 3}, relu, {type: layer-norm, normalized-shape: 3}]
          weights:
            tensors:
              "0.weight": [[1, 0, 0], [0, 1, 0], [1, 1, 0]]
              "0.bias": [0, 0, -1]
              "1.weight": [1, 1, 1]
              "2.weight": [1, 1, 1]
        """);

    // torch 1.13's load_state_dict message for the same tensors, shapes printed as [3, 3] rather than
    // torch.Size([3, 3]) as everywhere in this project.
    assertThat(problems).containsExactly("module.weights.tensors in conf/l.yaml do not fit module.layers: Error(s) in"
        + " loading state_dict for Sequential: Missing key(s) in state_dict: \"2.bias\". Unexpected key(s) in"
        + " state_dict: \"1.weight\". size mismatch for 0.weight: copying a param with shape [3, 3] from checkpoint,"
        + " the shape in current model is [3, 2]. Give the tensors of each layer under its index in module.layers:"
        + " 0.weight, 0.bias, 1.weight, ...");
  }

  @Test
  void rejectsInlineValuesThatAreNotTensors() {
    assertThat(problems("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 2}]
          weights: {tensors: {"0.weight": [[1, 2], [3]], "0.bias": [1, 1.0e39], "1": {x: 1.5}}}
        """)).containsExactly(
        "module.weights.tensors.0.weight in conf/l.yaml must be a list of finite numbers, a list of rows of one"
            + " length, or an integer, got [[1, 2], [3]]",
        "module.weights.tensors.0.bias in conf/l.yaml must be a list of finite numbers, a list of rows of one length,"
            + " or an integer, got [1, 1.0E39]",
        "module.weights.tensors.1.x in conf/l.yaml must be a list of finite numbers, a list of rows of one length, or"
            + " an integer, got 1.5");
  }

  @Test
  void keepsTheSingleLinearsInlineWeightsApartFromTensors() {
    assertThat(problems("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 2}]
          weights: {weight: [[1, 2], [3, 4]], bias: [0, 0]}
        """)).containsExactly(
        "module.weights.weight in conf/l.yaml is a parameter of the single Linear; with module.layers give"
            + " module.weights.tensors, by state-dict key (\"0.weight\", \"0.bias\", ...)",
        "module.weights.bias in conf/l.yaml is a parameter of the single Linear; with module.layers give"
            + " module.weights.tensors, by state-dict key (\"0.weight\", \"0.bias\", ...)");
    assertThat(problems("""
        module:
          in-features: 2
          out-features: 2
          weights: {tensors: {weight: [[1, 2], [3, 4]]}}
        """)).containsExactly("module.weights.tensors in conf/l.yaml is only used with module.layers; for the single"
        + " Linear give module.weights.weight and module.weights.bias");
  }

  @Test
  void readsHooksOfOneLayer() {
    JobConfig config = parse(ISSUE_EXAMPLE + """
        hooks:
          layers:
            2: {forward: [{type: clamp, max: 6}, {type: stats, bins: 4}]}
            0.pre: [{type: standardize, mean: [%s], std: [%s]}]
        """.formatted(ones(48), ones(48)), "hooks.layers.6.forward=[sigmoid]");

    assertThat(config.hooks().layers()).containsOnlyKeys(2, 0, 6);
    assertThat(config.hooks().layers().get(2).forward()).containsExactly(new Hook.Clamp(null, 6f),
        new Hook.Stats(4, -10f, 10f));
    assertThat(config.hooks().layers().get(2).pre()).isEmpty();
    assertThat(config.hooks().layers().get(0).pre()).hasSize(1);
    assertThat(config.hooks().layers().get(6).forward()).containsExactly(new Hook.Sigmoid());
    assertThat(config.resolved().get("hooks.layers")).isEqualTo(Map.of(
        2, Map.of("pre", List.of(), "forward", List.of("clamp {max: 6.0}", "stats {bins: 4, min: -10.0, max: 10.0}")),
        0, Map.of("pre", List.of("standardize {mean: vector [48], std: vector [48]}"), "forward", List.of()),
        6, Map.of("pre", List.of(), "forward", List.of("sigmoid"))));
  }

  @Test
  void rejectsHooksOfLayersThatAreNotThere() {
    assertThat(problems(ISSUE_EXAMPLE + """
        hooks:
          layers:
            7: {forward: [relu]}
            last: {forward: [relu]}
            1: {pre: [{type: stats}], forwrd: [relu]}
            3: relu
            6.forward: [{type: standardize, mean: [0, 0], std: [1, 1]}]
        """)).containsExactly(
        "hooks.layers.last in conf/l.yaml: 'last' is not a layer index; name a layer by its position in"
            + " module.layers, e.g. hooks.layers.0",
        "hooks.layers.1.pre[0] (stats) in conf/l.yaml: stats gathers statistics of the module's outputs; list it"
            + " under hooks.layers.1.forward",
        "Unknown config key 'hooks.layers.1.forwrd' in conf/l.yaml; the known keys are listed in docs/config.md",
        "hooks.layers.3 in conf/l.yaml must be a map with pre, forward or both, got 'relu'",
        "hooks.layers.7 in conf/l.yaml: module.layers has 7 layers (indexes 0 to 6); there is no layer 7",
        "hooks.layers.6.forward[0] (standardize) in conf/l.yaml: mean has 2 values, expected the output width of"
            + " module.layers[6] = 8; give one value per output",
        "hooks.layers.6.forward[0] (standardize) in conf/l.yaml: std has 2 values, expected the output width of"
            + " module.layers[6] = 8; give one value per output");
    assertThat(problems("module: {in-features: 4, out-features: 3}\nhooks.layers.0.forward: [relu]\n"))
        .containsExactly("hooks.layers in conf/l.yaml attaches hooks to layers of module.layers, which is not given;"
            + " the single Linear's hooks are hooks.pre and hooks.forward");
  }

  @Test
  void wholeModuleHooksSeeTheTreesWidths() {
    assertThat(problems(ISSUE_EXAMPLE + "hooks.forward: [{type: standardize, mean: [0, 0, 0], std: [1, 1, 1]}]\n"))
        .containsExactly(
            "hooks.forward[0] (standardize) in conf/l.yaml: mean has 3 values, expected out_features = 8; give one"
                + " value per output",
            "hooks.forward[0] (standardize) in conf/l.yaml: std has 3 values, expected out_features = 8; give one"
                + " value per output");
  }

  @Test
  void layersTensorsAndLayerHooksSurviveSerialization() throws Exception {
    JobConfig config = parse("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 2, bias: false}, {type: gelu, approximate: tanh}]
          weights: {tensors: {"0.weight": [[1, 2], [3, 4]]}}
        hooks.layers.1.forward: [{type: clamp, max: 6}]
        """);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(config);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(config);
    }
    assertThat(parse("""
        module:
          layers: [{type: linear, in-features: 2, out-features: 2, bias: false}, {type: gelu, approximate: tanh}]
          weights: {tensors: {"0.weight": [[1, 2], [3, 5]]}}
        hooks.layers.1.forward: [{type: clamp, max: 6}]
        """)).isNotEqualTo(config);
  }

  @Test
  void aSeedGivesTheSameTreeAndAnotherSeedAnother() {
    List<Layer> layers = parse(ISSUE_EXAMPLE).module().layers();

    assertThat(Layer.sequential(layers, 5L).stateDict()).isEqualTo(Layer.sequential(layers, 5L).stateDict());
    assertThat(Layer.sequential(layers, 5L).stateDict().get("0.weight"))
        .isNotEqualTo(Layer.sequential(layers, 6L).stateDict().get("0.weight"));
    assertThat(Layer.sequential(layers, 5L).stateDict().get("6.weight"))
        .as("each Linear its own seed").isNotEqualTo(Layer.sequential(layers, 6L).stateDict().get("6.weight"));
  }

  private static String ones(int n) {
    String[] values = new String[n];
    Arrays.fill(values, "1");
    return String.join(", ", values);
  }
}
