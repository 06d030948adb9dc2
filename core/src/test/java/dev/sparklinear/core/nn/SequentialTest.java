package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.BlockPool;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.weights.SafetensorsReader;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.arrow.memory.AllocationListener;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Sequential} and whole trees against PyTorch ({@code torch-trees/trees.json} and {@code tree_<n>.safetensors},
 * made by {@code make_fixtures.py}): repr, names, strict loading of torch's exported state dicts, outputs (held to
 * {@link TorchFixtures}' rule), the order in which hooks fire, and the blocks a call takes and closes.
 */
class SequentialTest {
  private static final JsonNode FIXTURE = TorchFixtures.read("/torch-trees/trees.json");

  /** The trees of {@code make_fixtures.py}, built the same way in Java. */
  private static final Map<String, Supplier<Sequential>> TREES = Map.of(
      "tree_1", () -> new Sequential(new Linear(48, 32), new LayerNorm(32), new GELU(), new Linear(32, 8)),
      "tree_2", () -> new Sequential(new Linear(16, 32), new BatchNorm1d(32), new ReLU(), new Dropout(0.2),
          new Linear(32, 4), new Sigmoid()),
      "tree_3", () -> new Sequential(
          new Linear(8, 16),
          new Sequential(new LayerNorm(16), new GELU("tanh"), new Sequential(new Linear(16, 16), new SiLU())),
          new Dropout(0.1),
          new Linear(16, 4),
          new Tanh(),
          new Identity(),
          new Softmax(-1)));

  private final List<RemovableHandle> globalHandles = new ArrayList<>();

  @AfterEach
  void removeGlobalHooks() {
    globalHandles.forEach(RemovableHandle::remove);
  }

  private static JsonNode tree(String name) {
    for (JsonNode tree : FIXTURE.get("trees")) {
      if (tree.get("name").textValue().equals(name)) {
        return tree;
      }
    }
    throw new AssertionError("no " + name + " in trees.json");
  }

  private static Map<String, Tensor> torchStateDict(String name) {
    String resource = "/torch-trees/" + name + ".safetensors";
    return SafetensorsReader.read(TorchFixtures.bytes(resource), resource).tensors();
  }

  private static Sequential loaded(String name) {
    Sequential tree = TREES.get(name).get();
    assertThat(tree.loadStateDict(torchStateDict(name), true).isEmpty()).isTrue();
    tree.eval();
    return tree;
  }

  private static float[][] run(Module module, float[][] inputs) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, inputs);
        FloatBlock y = module.call(x)) {
      return y.toRows();
    }
  }

  // ------------------------------------------------------------------------------------------------ torch parity

  @ParameterizedTest
  @ValueSource(strings = {"tree_1", "tree_2", "tree_3"})
  void reprIsTorchsPrint(String name) {
    assertThat(TREES.get(name).get()).hasToString(tree(name).get("repr").textValue());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tree_1", "tree_2", "tree_3"})
  void namesAreTorchs(String name) {
    Sequential tree = TREES.get(name).get();
    List<String> modules = new ArrayList<>();
    tree(name).get("modules").forEach(n -> modules.add(n.textValue()));
    List<String> keys = new ArrayList<>();
    tree(name).get("state_dict_keys").forEach(n -> keys.add(n.textValue()));

    assertThat(tree.namedModules().keySet()).containsExactlyElementsOf(modules);
    assertThat(tree.stateDict().keySet()).containsExactlyElementsOf(keys);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tree_1", "tree_2", "tree_3"})
  void loadedTreeReproducesTorchsOutputs(String name) {
    JsonNode fixture = tree(name);
    float[][] ours = run(loaded(name), TorchFixtures.floats(fixture.get("inputs")));
    TorchFixtures.Errors errors = TorchFixtures.assertNoWorseThanTorch(name, ours,
        TorchFixtures.floats(fixture.get("out32")), TorchFixtures.doubles(fixture.get("out64")));
    System.out.println(name + ": " + errors);
  }

  @Test
  void integerBufferLoadsFromI64AndSavesAsAnInteger() {
    Tensor saved = torchStateDict("tree_2").get("1.num_batches_tracked");
    assertThat(saved.dtype()).as("torch saves num_batches_tracked as I64").isEqualTo(Dtype.INT64);
    assertThat(saved.getLong(0)).as("make_fixtures.py runs five training batches").isEqualTo(5);

    Sequential tree = loaded("tree_2");

    assertThat(((BatchNorm1d) tree.get(1)).numBatchesTracked()).isEqualTo(5);
    Tensor inStateDict = tree.stateDict().get("1.num_batches_tracked");
    assertThat(inStateDict.dtype()).isEqualTo(Dtype.INT64);
    assertThat(inStateDict.shape()).isEmpty();
    assertThat(inStateDict.toLongArray()).containsExactly(5);
  }

  @Test
  void hooksFireOnEveryNodeInTorchsOrder() {
    Sequential tree = TREES.get("tree_3").get();
    tree.eval();
    Map<Module, String> names = new IdentityHashMap<>();
    tree.namedModules().forEach((name, module) -> names.put(module, name));
    List<String> log = new ArrayList<>();
    tree.namedModules().forEach((name, module) -> {
      module.registerForwardPreHook((m, in, ctx) -> {
        log.add("pre " + name);
        return null;
      });
      module.registerForwardHook((m, in, out, ctx) -> {
        log.add("forward " + name);
        return null;
      });
    });
    globalHandles.add(Module.registerGlobalForwardPreHook((m, in, ctx) -> {
      if (names.containsKey(m)) {
        log.add("global_pre " + names.get(m));
      }
      return null;
    }));
    globalHandles.add(Module.registerGlobalForwardHook((m, in, out, ctx) -> {
      if (names.containsKey(m)) {
        log.add("global_forward " + names.get(m));
      }
      return null;
    }));

    run(tree, TorchFixtures.floats(tree("tree_3").get("inputs")));

    List<String> torch = new ArrayList<>();
    FIXTURE.get("hook_order").forEach(n -> torch.add(n.textValue()));
    assertThat(torch).hasSize(4 * tree.modules().size());
    assertThat(log).containsExactlyElementsOf(torch);
  }

  @Test
  void strictLoadOfADamagedExportReportsEveryProblemInTorchsWords() {
    JsonNode damage = FIXTURE.get("damaged_load");
    Map<String, Tensor> state = new LinkedHashMap<>(torchStateDict("tree_2"));
    damage.get("removed").forEach(key -> state.remove(key.textValue()));
    damage.get("added").fields().forEachRemaining(e -> state.put(e.getKey(), zeros(e.getValue())));
    damage.get("reshaped").fields().forEachRemaining(e -> state.put(e.getKey(), zeros(e.getValue())));
    Sequential tree = TREES.get("tree_2").get();
    Map<String, Tensor> before = tree.stateDict();

    StateDictLoadException e = catchThrowableOfType(StateDictLoadException.class, () -> tree.loadStateDict(state, true));

    // torch prints shapes as torch.Size([4, 31]); this project prints [4, 31], as for a single Linear.
    String torchMessage = damage.get("message").textValue().replaceAll("torch\\.Size\\((\\[[0-9, ]*\\])\\)", "$1");
    assertThat(e).hasMessage(torchMessage);
    assertThat(e.missingKeys()).containsExactly("0.bias", "1.running_var");
    assertThat(e.unexpectedKeys()).as("torch's order: the root's keys first").containsExactly("7.weight", "foo", "1.extra");
    assertThat(e.sizeMismatches()).containsExactly("4.weight");
    assertThat(tree.stateDict()).as("a failed load changes nothing").isEqualTo(before);
  }

  private static Tensor zeros(JsonNode shape) {
    int[] dims = new int[shape.size()];
    int count = 1;
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).intValue();
      count *= dims[i];
    }
    return Tensor.wrap(new float[count], dims);
  }

  // ------------------------------------------------------------------------------------------------------ blocks

  @Test
  void withoutHooksACallTakesOneBlockPerChildAndKeepsOnlyTheOutput() {
    AtomicInteger allocations = new AtomicInteger();
    AllocationListener counting = new AllocationListener() {
      @Override
      public void onAllocation(long size) {
        allocations.incrementAndGet();
      }
    };
    Sequential tree = loaded("tree_3");
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator(counting);
        FloatBlock x = FloatBlock.copyOf(allocator, TorchFixtures.floats(tree("tree_3").get("inputs")))) {
      long inputBytes = allocator.getAllocatedMemory();
      allocations.set(0);
      try (FloatBlock y = tree.call(x)) {
        int leaves = (int) tree.modules().stream().filter(m -> !(m instanceof Sequential)).count();
        assertThat(allocations.get())
            .as("one block per leaf module, none for the Sequentials nor for SiLU and Tanh, which run in the kernels"
                + " of the Linears before them")
            .isEqualTo(leaves - 2);
        assertThat(allocator.getAllocatedMemory()).as("input and output only: every intermediate block is closed")
            .isEqualTo(inputBytes + y.buffer().getActualMemoryConsumed());
      }
      assertThat(allocator.getAllocatedMemory()).isEqualTo(inputBytes);
    }
  }

  @Test
  void aFailingChildClosesTheIntermediateBlockAndNotTheInput() {
    Sequential tree = new Sequential(new Linear(4, 3, true, 1L), new ReLU(), new LayerNorm(5));
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, 2, 3, 4}})) {
      assertThatThrownBy(() -> tree.call(x))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[1, 3]");
      assertThat(x.row(0)).as("the caller's input is still open and unchanged").containsExactly(1, 2, 3, 4);
      assertThat(allocator.getAllocatedMemory()).isEqualTo(4L * FloatBlock.BYTES);
    }
  }

  @Test
  void treeInTrainingModeRefusesBatchNormAndDropoutWithoutLeaking() {
    Sequential tree = loaded("tree_2");
    tree.train();
    assertThatThrownBy(() -> run(tree, new float[][] {new float[16]}))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage("BatchNorm1d in training mode is not supported yet; call eval()");
  }

  @Test
  void emptySequentialReturnsACopyOfItsInput() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, -2}});
        FloatBlock y = new Sequential().call(x)) {
      assertThat(y).isNotSameAs(x);
      assertThat(y.row(0)).containsExactly(1, -2);
    }
    assertThat(new Sequential()).hasToString("Sequential()");
  }

  // -------------------------------------------------------------------------------------------------- block pool

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aPooledTreeAllocatesNothingAfterItsFirstBlock(boolean fused) {
    Linear fc1 = new Linear(64, 256, true, 11L);
    Linear fc2 = new Linear(256, 16, true, 12L);
    ReLU relu = new ReLU();
    Sequential mlp = new Sequential(fc1, relu, fc2);
    RemovableHandle unfuse = fused ? () -> { } : relu.registerForwardHook((m, in, out, ctx) -> null);
    AtomicInteger allocations = new AtomicInteger();
    AllocationListener counting = new AllocationListener() {
      @Override
      public void onAllocation(long size) {
        allocations.incrementAndGet();
      }
    };
    SplittableRandom random = new SplittableRandom(5);
    try (unfuse;
        LeakCheckingAllocator allocator = new LeakCheckingAllocator(counting);
        BlockPool pool = new BlockPool(allocator)) {
      int afterFirstBlock = 0;
      for (int block = 0; block < 40; block++) {
        int rows = block == 0 ? 300 : 1 + random.nextInt(300); // the first block is a full one, as in a partition
        float[][] rowsIn = randomRows(random, rows, 64);
        try (FloatBlock x = FloatBlock.copyOf(allocator, rowsIn)) {
          int beforeCall = allocations.get();
          float[][] pooled;
          try (FloatBlock y = mlp.call(x, CallContext.of(rows, 0, block, 0, pool))) {
            pooled = y.toRows();
          }
          if (block == 0) {
            afterFirstBlock = allocations.get();
          } else {
            assertThat(allocations.get()).as("Arrow allocations by the call on block %d", block).isEqualTo(beforeCall);
          }
          assertThat(pooled).as("block %d, pooled against a plain call", block).isDeepEqualTo(run(mlp, rowsIn));
          assertNear(pooled, mlpReference(rowsIn, fc1, fc2), 1e-4);
        }
      }
      assertThat(pool.allocations()).as("blocks held at once: fused, the hidden and the output block; unfused one more,"
          + " which the second Linear's output reuses").isEqualTo(2);
      assertThat(afterFirstBlock).isPositive();
    }
  }

  private static float[][] randomRows(SplittableRandom random, int rows, int cols) {
    float[][] values = new float[rows][cols];
    for (float[] row : values) {
      for (int c = 0; c < cols; c++) {
        row[c] = (float) (random.nextDouble() * 2 - 1);
      }
    }
    return values;
  }

  /** {@code relu(x W1^T + b1) W2^T + b2} in double. */
  private static double[][] mlpReference(float[][] x, Linear fc1, Linear fc2) {
    double[][] out = new double[x.length][];
    for (int r = 0; r < x.length; r++) {
      out[r] = affine(relu(affine(toDoubles(x[r]), fc1)), fc2);
    }
    return out;
  }

  private static double[] toDoubles(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  private static double[] affine(double[] x, Linear fc) {
    double[] y = new double[fc.outFeatures()];
    for (int o = 0; o < y.length; o++) {
      double sum = fc.bias().orElseThrow().get(o);
      for (int k = 0; k < x.length; k++) {
        sum += x[k] * fc.weight().get(o, k);
      }
      y[o] = sum;
    }
    return y;
  }

  private static double[] relu(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.max(0, x[i]);
    }
    return y;
  }

  private static void assertNear(float[][] actual, double[][] expected, double tolerance) {
    assertThat(actual).hasNumberOfRows(expected.length);
    for (int r = 0; r < expected.length; r++) {
      for (int c = 0; c < expected[r].length; c++) {
        assertThat((double) actual[r][c]).as("row %d, column %d", r, c).isCloseTo(expected[r][c],
            Offset.offset(tolerance));
      }
    }
  }

  // ------------------------------------------------------------------------------------------------------ fusion

  static Stream<Arguments> activationsAndKernels() {
    Stream.Builder<Arguments> cases = Stream.builder();
    for (String kernel : new String[] {"scalar", "vector"}) {
      for (String activation : new String[] {"relu", "gelu", "gelu-tanh", "silu", "sigmoid", "tanh"}) {
        for (int[] shape : new int[][] {{64, 16}, {33, 200}, {5, 3}}) {
          cases.add(Arguments.of(kernel, activation, shape[0], shape[1]));
        }
      }
    }
    return cases.build();
  }

  private static ElementwiseModule activation(String name) {
    return switch (name) {
      case "relu" -> new ReLU();
      case "gelu" -> new GELU();
      case "gelu-tanh" -> new GELU("tanh");
      case "silu" -> new SiLU();
      case "sigmoid" -> new Sigmoid();
      case "tanh" -> new Tanh();
      default -> throw new IllegalArgumentException(name);
    };
  }

  @ParameterizedTest(name = "{0} kernel, {1}, {2}->{3}")
  @MethodSource("activationsAndKernels")
  void aLinearAndTheActivationAfterItRunFusedBitForBitAsTwoSteps(String kernel, String name, int in, int out) {
    String before = System.getProperty(LinearKernels.KERNEL_PROPERTY);
    System.setProperty(LinearKernels.KERNEL_PROPERTY, kernel);
    try {
      Linear fc = new Linear(in, out, true, 3L);
      assertThat(fc.kernelName()).isEqualTo(kernel);
      ElementwiseModule act = activation(name);
      Sequential tree = new Sequential(fc, act);
      SplittableRandom random = new SplittableRandom(in * 31L + out);
      float[][] x = randomRows(random, 37, in);
      for (float[] row : x) {
        for (int c = 0; c < in; c++) {
          row[c] *= 8; // into the tails of the activations
        }
      }
      x[0][0] = Float.NaN;
      x[1][0] = Float.POSITIVE_INFINITY;
      x[2][0] = Float.NEGATIVE_INFINITY;

      AtomicInteger allocations = new AtomicInteger();
      AllocationListener counting = new AllocationListener() {
        @Override
        public void onAllocation(long size) {
          allocations.incrementAndGet();
        }
      };
      float[] fused;
      float[] separate;
      try (LeakCheckingAllocator allocator = new LeakCheckingAllocator(counting);
          FloatBlock xb = FloatBlock.copyOf(allocator, x)) {
        allocations.set(0);
        try (FloatBlock y = tree.call(xb)) {
          fused = y.toArray();
        }
        assertThat(allocations.get()).as("fused: one block, the activated output").isEqualTo(1);
        allocations.set(0);
        try (RemovableHandle noOp = act.registerForwardHook((m, input, output, ctx) -> null);
            FloatBlock y = tree.call(xb)) {
          separate = y.toArray();
        }
        assertThat(allocations.get()).as("a hook on the activation: two steps, two blocks").isEqualTo(2);
      }
      assertThat(bits(fused)).isEqualTo(bits(separate));
      // The two-step path against an independent evaluation: the activation of the Linear's own output, value by value.
      try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
          FloatBlock xb = FloatBlock.copyOf(allocator, x);
          FloatBlock linear = fc.call(xb)) {
        float[] z = linear.toArray();
        for (int i = 0; i < z.length; i++) {
          assertThat(Float.floatToIntBits(fused[i])).as("value %d", i)
              .isEqualTo(Float.floatToIntBits(act.activate(z[i])));
        }
      }
    } finally {
      if (before == null) {
        System.clearProperty(LinearKernels.KERNEL_PROPERTY);
      } else {
        System.setProperty(LinearKernels.KERNEL_PROPERTY, before);
      }
    }
  }

  /**
   * The bits of each value, every NaN as the canonical one: Java leaves the sign and payload of a NaN made by
   * arithmetic unspecified (the JIT may swap the operands of a product of two NaNs), so a NaN is all that is checked.
   */
  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToIntBits(values[i]);
    }
    return bits;
  }

  /** A 4 -> 3 layer whose outputs for {@link #X} are -5, 0.5 and 7 (worked out by hand: w . x + b). */
  private static Linear handLinear() {
    Linear fc = new Linear(4, 3, true, 1L);
    fc.setWeight(new Parameter(Tensor.of(new float[][] {{-1, 0, 0, 0}, {0, 0.5f, 0, 0}, {0, 0, 1, 1}})));
    fc.setBias(new Parameter(Tensor.of(new float[] {-2, -0.5f, 0})));
    return fc;
  }

  private static final float[][] X = {{3, 2, 3, 4}};

  @Test
  void aForwardHookOnTheLinearSeesItsOutputBeforeTheActivation() {
    Linear fc = handLinear();
    Sequential tree = new Sequential(fc, new ReLU());
    List<float[]> seen = new ArrayList<>();
    try (RemovableHandle hook = fc.registerForwardHook((m, in, out, ctx) -> {
      seen.add(out.row(0));
      return null;
    })) {
      assertThat(run(tree, X)[0]).containsExactly(0f, 0.5f, 7f);
    }
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0)).as("the Linear's own output, not yet through the ReLU").containsExactly(-5f, 0.5f, 7f);
  }

  @Test
  void aPreHookOnTheActivationSeesTheLinearsOutput() {
    ReLU relu = new ReLU();
    Sequential tree = new Sequential(handLinear(), relu);
    List<float[]> seen = new ArrayList<>();
    try (RemovableHandle hook = relu.registerForwardPreHook((m, in, ctx) -> {
      seen.add(in.row(0));
      return null;
    })) {
      assertThat(run(tree, X)[0]).containsExactly(0f, 0.5f, 7f);
    }
    assertThat(seen).singleElement().satisfies(row -> assertThat(row).containsExactly(-5f, 0.5f, 7f));
  }

  @Test
  void aGlobalHookSeesTheBlockBetweenLinearAndActivation() {
    Linear fc = handLinear();
    List<float[]> seen = new ArrayList<>();
    globalHandles.add(Module.registerGlobalForwardHook((m, in, out, ctx) -> {
      if (m == fc) {
        seen.add(out.row(0));
      }
      return null;
    }));
    assertThat(run(new Sequential(fc, new ReLU()), X)[0]).containsExactly(0f, 0.5f, 7f);
    assertThat(seen).singleElement().satisfies(row -> assertThat(row).containsExactly(-5f, 0.5f, 7f));
  }

  @Test
  void aPreHookOnTheLinearStillRunsWhenTheActivationIsFused() {
    Linear fc = handLinear();
    Sequential tree = new Sequential(fc, new ReLU());
    AtomicInteger allocations = new AtomicInteger();
    AllocationListener counting = new AllocationListener() {
      @Override
      public void onAllocation(long size) {
        allocations.incrementAndGet();
      }
    };
    // Doubles the input: outputs -2 * 3 - 2 = -8, 0.5 * 4 - 0.5 = 1.5 and 6 + 8 = 14.
    try (RemovableHandle hook = fc.registerForwardPreHook((m, in, ctx) -> {
      FloatBlock doubled = ctx.allocate(in.rows(), in.cols());
      in.mapRows(doubled, (values, rows, cols, first) -> {
        for (int i = 0; i < rows * cols; i++) {
          values[i] *= 2;
        }
        return true;
      });
      return doubled;
    });
        LeakCheckingAllocator allocator = new LeakCheckingAllocator(counting);
        FloatBlock x = FloatBlock.copyOf(allocator, X)) {
      allocations.set(0);
      try (FloatBlock y = tree.call(x)) {
        assertThat(y.row(0)).containsExactly(0f, 1.5f, 14f);
      }
      assertThat(allocations.get()).as("the pre-hook's block and the fused output, no block for the ReLU").isEqualTo(2);
    }
  }

  // --------------------------------------------------------------------------------------------- container API

  @Test
  void childrenAreIndexedFromZeroAndReachableByIndex() {
    ReLU relu = new ReLU();
    Tanh tanh = new Tanh();
    Sequential seq = new Sequential(List.of(relu, tanh));
    Sigmoid sigmoid = new Sigmoid();

    assertThat(seq.append(sigmoid)).isSameAs(seq);

    assertThat(seq.size()).isEqualTo(3);
    assertThat(seq.namedChildren().keySet()).containsExactly("0", "1", "2");
    assertThat(seq.get(0)).isSameAs(relu);
    assertThat(seq.get(-1)).isSameAs(sigmoid);
    assertThat(seq.get(-3)).isSameAs(relu);
    assertThatThrownBy(() -> seq.get(3)).isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("index 3 is out of range");
    assertThatThrownBy(() -> seq.get(-4)).isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("index -4 is out of range");
  }

  @Test
  void namedChildrenComeFromAnOrderedMap() {
    Map<String, Module> named = new LinkedHashMap<>();
    named.put("fc", new Linear(2, 2, false, 1L));
    named.put("act", new ReLU());
    Sequential seq = new Sequential(named);

    assertThat(seq.stateDict().keySet()).containsExactly("fc.weight");
    assertThat(seq).hasToString("Sequential(\n  (fc): Linear(in_features=2, out_features=2, bias=False)\n"
        + "  (act): ReLU()\n)");
  }
}
