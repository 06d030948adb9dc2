package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.weights.SafetensorsReader;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.arrow.memory.AllocationListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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
        assertThat(allocations.get()).as("one block per leaf module, none for the Sequentials").isEqualTo(leaves);
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
