package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
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
 * semantics of backward hooks. A module's gradients are held to {@link TorchFixtures}' rule: no worse than twice
 * torch's own float32 error against the float64 gradient, plus four units in the last place. A tree's gradients are
 * computed from every float32 value of its forward pass, which ours and torch's round in different places: they are
 * held to four times torch's error, over each parameter's whole gradient rather than row by row.
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
    return rows(dev.sparklinear.core.testing.TorchJson.floats(values), shape);
  }

  private static double[][] doublesShaped(JsonNode values, int[] shape) {
    float[][] unused = floatsShaped(values, shape);
    double[][] out = new double[unused.length][];
    int cols = unused.length == 0 ? 0 : unused[0].length;
    for (int r = 0; r < out.length; r++) {
      out[r] = new double[cols];
      for (int c = 0; c < cols; c++) {
        out[r][c] = values.get(r * cols + c).doubleValue();
      }
    }
    return out;
  }

  /** Every gradient of {@code c} (a module or tree case) against torch's. */
  private static void assertGradientsNoWorseThanTorch(Case c, Module module, double factor) {
    module.loadStateDict(TorchFixtures.stateDict(c.node().get("state_dict")), true);
    module.eval();
    Map<String, float[][]> ours = backward(module, TorchFixtures.floats(c.node().get("inputs")),
        TorchFixtures.floats(c.node().get("grad_output")));
    TorchFixtures.Errors input = TorchFixtures.assertNoWorseThanTorch(c.name() + " grad_input", ours.get("input"),
        TorchFixtures.floats(c.node().get("grad_input32")), TorchFixtures.doubles(c.node().get("grad_input64")), factor);
    System.out.println(c.name() + " grad_input: " + input);
    JsonNode torch32 = c.node().get("parameter_grads32");
    JsonNode torch64 = c.node().get("parameter_grads64");
    assertThat(ours.keySet()).containsExactlyElementsOf(names("input", torch32));
    module.namedParameters().forEach((name, p) -> {
      // A module's weight gradient is compared row by row, as its own rows have one scale each; a tree's as a whole,
      // since there an element's error comes from the forward values it was summed from, in any row.
      int[] shape = factor > 2 ? new int[] {p.numel()} : p.shape();
      TorchFixtures.Errors errors = TorchFixtures.assertNoWorseThanTorch(c.name() + " " + name + ".grad",
          rows(flatten(ours.get(name)), shape), floatsShaped(torch32.get(name), shape),
          doublesShaped(torch64.get(name), shape), factor);
      System.out.println(c.name() + " " + name + ".grad: " + errors);
    });
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
  void moduleGradientsAreNoWorseThanTorchsAgainstFloat64(Case c) {
    assertGradientsNoWorseThanTorch(c, build(c.node().get("type").textValue(), c.node().get("args")), 2);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("trees")
  void treeGradientsAreNoWorseThanTorchsAgainstFloat64(Case c) {
    assertGradientsNoWorseThanTorch(c, tree(c.name()), 4);
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

  @Test
  void preHookReplacesGradOutputAndHookReplacesGradInputAsInTorch() {
    Sequential tree = hookTree();
    float[][] plainInput = run(tree, true);
    Map<String, float[]> plain = grads(tree);
    tree.zeroGrad();

    List<String> log = logEverything(tree);
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
    replaced.forEach((name, grad) -> assertClose(name, grad, dev.sparklinear.core.testing.TorchJson.floats(torch.get(name))));
    JsonNode torchPlain = HOOKS.get("parameter_grads");
    plain.forEach((name, grad) -> assertClose(name, grad, dev.sparklinear.core.testing.TorchJson.floats(torchPlain.get(name))));
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
