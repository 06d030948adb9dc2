package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.testing.TorchJson;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backward passes against PyTorch, from {@code torch-backward/*.json} (see {@code make_fixtures.py} there): every
 * module type's gradients with respect to its input and its parameters, three trees, and the order and replacement
 * semantics of backward hooks.
 *
 * <p>A module's gradients are held to {@link TorchFixtures#assertWithinTorchsError}, with no factor and no slack: in
 * each row (each weight row, each input row) our largest error against the float64 gradient is no larger than
 * torch's own float32 error. Each module computes in float64 and rounds once, so each value is the float32 nearest
 * the exact one but for float64 rounding.
 *
 * <p>A tree is held to the same rule over each whole gradient (an element's error there comes from forward values it
 * was summed from, in any row): our largest error against torch's float64 gradient is no larger than torch's own
 * float32 error. Torch's float32 gradients carry the rounding of every activation of its forward pass; ours are
 * computed from the tape's float64 activations and flow between modules in float64, so they carry one rounding.
 */
class TorchBackwardParityTest {
  private static final JsonNode MODULES = TorchFixtures.read("/torch-backward/modules.json");
  private static final JsonNode TREES = TorchFixtures.read("/torch-backward/trees.json");
  private static final JsonNode HOOKS = TorchFixtures.read("/torch-backward/hooks.json");

  private final List<RemovableHandle> handles = new ArrayList<>();

  @AfterEach
  void removeHooks() {
    handles.forEach(RemovableHandle::remove);
  }

  record Case(String name, JsonNode node) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> modules() {
    List<Case> cases = new ArrayList<>();
    MODULES.get("cases").forEach(c -> cases.add(new Case(c.get("name").textValue(), c)));
    return cases;
  }

  static List<Case> trees() {
    List<Case> cases = new ArrayList<>();
    TREES.get("trees").forEach(c -> cases.add(new Case(c.get("name").textValue(), c)));
    return cases;
  }

  private static Module build(String type, JsonNode args) {
    if (type.equals("Linear")) {
      return new Linear(args.get("in_features").intValue(), args.get("out_features").intValue(),
          !args.has("bias") || args.get("bias").booleanValue());
    }
    return TorchModulesParityTest.build(type, args);
  }

  static Module tree(String name) {
    return switch (name) {
      case "tree_1" -> new Sequential(new Linear(48, 32), new LayerNorm(32), new GELU(), new Linear(32, 8));
      case "tree_2" -> new Sequential(new Linear(16, 32), new BatchNorm1d(32), new ReLU(), new Dropout(0.2),
          new Linear(32, 4), new Sigmoid());
      case "tree_3" -> new Sequential(
          new Linear(8, 16),
          new Sequential(new LayerNorm(16), new GELU("tanh"), new Sequential(new Linear(16, 16), new SiLU())),
          new Dropout(0.1),
          new Linear(16, 4),
          new Tanh(),
          new Identity(),
          new Softmax(-1));
      default -> throw new AssertionError(name);
    };
  }

  /** Our gradients of (y * g).sum(): the input's, then each parameter's under its name. */
  private static Map<String, float[][]> backward(Module module, float[][] inputs, float[][] gradOutput) {
    Map<String, float[][]> out = new LinkedHashMap<>();
    module.zeroGrad();
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, inputs);
        FloatBlock g = FloatBlock.copyOf(allocator, gradOutput);
        GradientTape tape = new GradientTape(allocator)) {
      tape.watch(x);
      try (FloatBlock y = module.call(x, CallContext.of(x).withTape(tape))) {
        tape.backward(y, g);
      }
      out.put("input", tape.inputGradient(x).toRows());
    }
    module.namedParameters().forEach((name, p) -> out.put(name, rows(p.grad().toArray(), p.shape())));
    return out;
  }

  private static float[] flatten(float[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    float[] out = new float[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * cols, cols);
    }
    return out;
  }

  private static float[][] rows(float[] values, int[] shape) {
    int cols = shape.length == 1 ? shape[0] : shape[1];
    float[][] rows = new float[values.length / cols][cols];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(values, r * cols, rows[r], 0, cols);
    }
    return rows;
  }

  private static float[][] floatsShaped(JsonNode values, int[] shape) {
    return rows(TorchJson.floats(values), shape);
  }

  private static double[][] doublesShaped(JsonNode values, int[] shape) {
    double[] flat = new double[values.size()];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = values.get(i).doubleValue();
    }
    return doublesShaped(flat, shape);
  }

  private static double[][] doublesShaped(double[] values, int[] shape) {
    int cols = shape.length == 1 ? shape[0] : shape[1];
    double[][] rows = new double[values.length / cols][cols];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(values, r * cols, rows[r], 0, cols);
    }
    return rows;
  }

  /** Every gradient of module case {@code c} against torch's, with the same float64 reference for both. */
  private static void assertModuleGradientsWithinTorchsError(Case c, Module module) {
    module.loadStateDict(TorchFixtures.stateDict(c.node().get("state_dict")), true);
    module.eval();
    Map<String, float[][]> ours = backward(module, TorchFixtures.floats(c.node().get("inputs")),
        TorchFixtures.floats(c.node().get("grad_output")));
    double[][] inputReference = TorchFixtures.doubles(c.node().get("grad_input64"));
    TorchFixtures.RowErrors input = TorchFixtures.assertWithinTorchsError(c.name() + " grad_input",
        ours.get("input"), inputReference, TorchFixtures.floats(c.node().get("grad_input32")), inputReference);
    System.out.printf("%-30s %s%n", c.name() + " grad_input:", input);
    JsonNode torch32 = c.node().get("parameter_grads32");
    JsonNode torch64 = c.node().get("parameter_grads64");
    assertThat(ours.keySet()).containsExactlyElementsOf(names("input", torch32));
    module.namedParameters().forEach((name, p) -> {
      double[][] reference = doublesShaped(torch64.get(name), p.shape());
      TorchFixtures.RowErrors errors = TorchFixtures.assertWithinTorchsError(c.name() + " " + name + ".grad",
          ours.get(name), reference, floatsShaped(torch32.get(name), p.shape()), reference);
      System.out.printf("%-30s %s%n", c.name() + " " + name + ".grad:", errors);
    });
  }

  /** Every gradient of tree case {@code c} against torch's, each gradient as one row. */
  private static void assertTreeGradientsWithinTorchsError(Case c, Module tree) {
    tree.loadStateDict(TorchFixtures.stateDict(c.node().get("state_dict")), true);
    tree.eval();
    Map<String, float[][]> ours = backward(tree, TorchFixtures.floats(c.node().get("inputs")),
        TorchFixtures.floats(c.node().get("grad_output")));
    JsonNode torch32 = c.node().get("parameter_grads32");
    JsonNode torch64 = c.node().get("parameter_grads64");
    assertThat(ours.keySet()).containsExactlyElementsOf(names("input", torch32));
    Map<String, float[]> torchFloats = new LinkedHashMap<>();
    Map<String, double[]> references = new LinkedHashMap<>();
    torchFloats.put("input", flatten(TorchFixtures.floats(c.node().get("grad_input32"))));
    references.put("input", flatten(TorchFixtures.doubles(c.node().get("grad_input64"))));
    torch32.fieldNames().forEachRemaining(name -> {
      torchFloats.put(name, TorchJson.floats(torch32.get(name)));
      references.put(name, doublesShaped(torch64.get(name), new int[] {torch64.get(name).size()})[0]);
    });
    ours.forEach((name, rows) -> {
      float[] values = flatten(rows);
      int[] whole = {values.length};
      String what = c.name() + " " + (name.equals("input") ? "grad_input" : name + ".grad");
      double[][] reference = doublesShaped(references.get(name), whole);
      TorchFixtures.RowErrors errors = TorchFixtures.assertWithinTorchsError(what, rows(values, whole), reference,
          rows(torchFloats.get(name), whole), reference);
      System.out.printf("%-30s %s%n", what + ":", errors);
    });
  }

  private static double[] flatten(double[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    double[] out = new double[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * cols, cols);
    }
    return out;
  }

  private static List<String> names(String first, JsonNode object) {
    List<String> names = new ArrayList<>(List.of(first));
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void fixtureCoversEveryModuleType() {
    assertThat(modules()).extracting(c -> c.node().get("type").textValue()).contains("Linear", "ReLU", "GELU", "SiLU",
        "Sigmoid", "Tanh", "Softmax", "LayerNorm", "BatchNorm1d", "Dropout", "Identity");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modules")
  void moduleGradientsAreWithinTorchsOwnErrorOfFloat64(Case c) {
    assertModuleGradientsWithinTorchsError(c, build(c.node().get("type").textValue(), c.node().get("args")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("trees")
  void treeGradientsAreWithinTorchsOwnErrorOfFloat64(Case c) {
    assertTreeGradientsWithinTorchsError(c, tree(c.name()));
  }

  // ---------------------------------------------------------------------------------------------------- hooks

  /** Registers logging hooks of every kind on every node of {@code tree}, and global ones, as the fixture does. */
  private List<String> logEverything(Module tree) {
    List<String> log = new ArrayList<>();
    Map<Module, String> names = new IdentityHashMap<>();
    tree.namedModules().forEach((name, m) -> names.put(m, name));
    tree.namedModules().forEach((name, m) -> {
      handles.add(m.registerForwardPreHook((module, input, context) -> add(log, "pre " + name)));
      handles.add(m.registerForwardHook((module, input, output, context) -> add(log, "forward " + name)));
      handles.add(m.registerFullBackwardPreHook((module, gradOutput) -> add(log, "backward_pre " + name)));
      handles.add(m.registerFullBackwardHook((module, gradInput, gradOutput) ->
          add(log, "backward " + name + (gradInput == null ? " None" : ""))));
    });
    handles.add(Module.registerGlobalFullBackwardPreHook((m, g) -> add(log, "global_backward_pre " + names.get(m))));
    handles.add(Module.registerGlobalFullBackwardHook((m, gi, go) ->
        add(log, "global_backward " + names.get(m) + (gi == null ? " None" : ""))));
    handles.add(Module.registerGlobalForwardPreHook((m, x, c) -> add(log, "global_pre " + names.get(m))));
    handles.add(Module.registerGlobalForwardHook((m, x, y, c) -> add(log, "global_forward " + names.get(m))));
    return log;
  }

  private static FloatBlock add(List<String> log, String entry) {
    log.add(entry);
    return null;
  }

  private static Sequential hookTree() {
    Sequential tree = (Sequential) tree("tree_3");
    tree.loadStateDict(TorchFixtures.stateDict(HOOKS.get("state_dict")), true);
    tree.eval();
    return tree;
  }

  /** Forward and backward of the hook fixture's tree; returns the input's gradient (null when not watched). */
  private static float[][] run(Module tree, boolean watchInput) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, TorchFixtures.floats(HOOKS.get("inputs")));
        FloatBlock g = FloatBlock.copyOf(allocator, TorchFixtures.floats(HOOKS.get("grad_output")));
        GradientTape tape = new GradientTape(allocator)) {
      if (watchInput) {
        tape.watch(x);
      }
      try (FloatBlock y = tree.call(x, CallContext.of(x).withTape(tape))) {
        tape.backward(y, g);
      }
      return watchInput ? tape.inputGradient(x).toRows() : null;
    }
  }

  @Test
  void hooksRunInTorchsOrderWhenTheInputRequiresGrad() {
    Sequential tree = hookTree();
    List<String> log = logEverything(tree);
    run(tree, true);
    assertThat(log).containsExactlyElementsOf(strings(HOOKS.get("order_input_requires_grad")));
  }

  @Test
  void hooksRunInTorchsOrderWithNullGradInputWhereTheInputDoesNotRequireGrad() {
    Sequential tree = hookTree();
    List<String> log = logEverything(tree);
    run(tree, false);
    assertThat(log).containsExactlyElementsOf(strings(HOOKS.get("order_input_without_grad")));
    assertThat(log).contains("backward  None", "backward 0 None");
  }

  /**
   * Both runs have the same logging hooks on every module, so that the gradients passed on are rounded to float32 at
   * the same places (a module with backward hooks passes on the float32 gradient its hooks saw).
   */
  @Test
  void preHookReplacesGradOutputAndHookReplacesGradInputAsInTorch() {
    Sequential tree = hookTree();
    List<String> log = logEverything(tree);
    float[][] plainInput = run(tree, true);
    Map<String, float[]> plain = grads(tree);
    tree.zeroGrad();
    log.clear();

    Sequential inner = (Sequential) tree.get(1);
    Module linear = ((Sequential) inner.get(2)).get(0);
    handles.add(linear.registerFullBackwardPreHook((module, gradOutput) -> scaled(gradOutput, 2f)));
    handles.add(inner.get(1).registerFullBackwardHook((module, gradInput, gradOutput) -> scaled(gradInput, -0.5f)));
    Module last = tree.get(3);
    handles.add(last.registerFullBackwardHook((m, gi, go) -> add(log, "backward 3 second")));
    handles.add(last.registerFullBackwardHook((m, gi, go) -> add(log, "backward 3 prepended"), HookOption.PREPEND));
    float[][] replacedInput = run(tree, true);
    Map<String, float[]> replaced = grads(tree);

    assertThat(log).containsExactlyElementsOf(strings(HOOKS.get("order_with_replacements")));
    // Exact in float32: doubling, then negating and halving, are exact.
    plain.forEach((name, grad) -> {
      float factor = name.startsWith("1.2.0.") ? 2f : name.startsWith("0.") || name.startsWith("1.0.") ? -1f : 1f;
      assertThat(replaced.get(name)).as(name).containsExactly(times(grad, factor));
    });
    for (int r = 0; r < plainInput.length; r++) {
      assertThat(replacedInput[r]).containsExactly(times(plainInput[r], -1f));
    }
    JsonNode torch = HOOKS.get("parameter_grads_with_replacements");
    replaced.forEach((name, grad) -> assertClose(name, grad, TorchJson.floats(torch.get(name))));
    JsonNode torchPlain = HOOKS.get("parameter_grads");
    plain.forEach((name, grad) -> assertClose(name, grad, TorchJson.floats(torchPlain.get(name))));
  }

  private static Map<String, float[]> grads(Module tree) {
    Map<String, float[]> out = new LinkedHashMap<>();
    tree.namedParameters().forEach((name, p) -> out.put(name, p.grad().toArray()));
    return out;
  }

  private static FloatBlock scaled(FloatBlock block, float factor) {
    FloatBlock out = FloatBlock.allocate(block.allocator(), block.rows(), block.cols());
    float[] values = times(block.toArray(), factor);
    out.writeRows(0, block.rows(), values, 0);
    return out;
  }

  private static float[] times(float[] values, float factor) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i] * factor;
    }
    return out;
  }

  /** Within 1e-5 of the largest magnitude of torch's float32 gradient: float32 rounding, not a different formula. */
  private static void assertClose(String what, float[] ours, float[] torch) {
    double scale = 0;
    for (float t : torch) {
      scale = Math.max(scale, Math.abs(t));
    }
    assertThat(ours).as(what).hasSameSizeAs(torch);
    for (int i = 0; i < ours.length; i++) {
      assertThat((double) Math.abs(ours[i] - torch[i])).as("%s[%d]: ours %s, torch %s", what, i, ours[i], torch[i])
          .isLessThanOrEqualTo(1e-5 * scale);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(e -> out.add(e.textValue()));
    return out;
  }
}
