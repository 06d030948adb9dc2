package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tree API of {@link Module}, after PyTorch's: {@code named_modules}, {@code modules}, {@code named_parameters},
 * {@code named_buffers}, {@code apply}, modes, buffers in the state dict. Expected names and orders are PyTorch's
 * (checked with PyTorch 1.13 for the same trees, written here by hand).
 */
class ModuleTreeTest {

  /** {@code Sequential(Linear(4, 3), Sequential(BatchNorm1d(3), ReLU()), Linear(3, 2, bias=False))}. */
  private static Sequential tree() {
    return new Sequential(new Linear(4, 3, true, 1L), new Sequential(new BatchNorm1d(3), new ReLU()),
        new Linear(3, 2, false, 2L));
  }

  /** A module with a non-persistent buffer, as {@code register_buffer(name, t, persistent=False)}. */
  static final class WithScratch extends Module {
    private static final long serialVersionUID = 1L;

    WithScratch() {
      registerParameter("scale", new Parameter(Tensor.of(2f)));
      registerBuffer("kept", Tensor.of(1f, 2f), true);
      registerBuffer("scratch", Tensor.of(9f), false);
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      throw new UnsupportedOperationException("not called");
    }
  }

  @Test
  void namedModulesArePreOrderWithTheRootUnderTheEmptyName() {
    Sequential tree = tree();
    Sequential inner = (Sequential) tree.get(1);

    assertThat(tree.namedModules()).containsExactly(
        entry("", tree), entry("0", tree.get(0)), entry("1", inner), entry("1.0", inner.get(0)),
        entry("1.1", inner.get(1)), entry("2", tree.get(2)));
    assertThat(tree.modules()).containsExactly(tree, tree.get(0), inner, inner.get(0), inner.get(1), tree.get(2));
    assertThat(tree.children()).containsExactly(tree.get(0), inner, tree.get(2));
  }

  @Test
  void aModuleSharedInTheTreeIsListedOnceButSavedUnderEachName() {
    Linear shared = new Linear(2, 2, false, 1L);
    Sequential tree = new Sequential(shared, new ReLU(), shared);

    assertThat(tree.namedModules().keySet()).containsExactly("", "0", "1");
    assertThat(tree.namedParameters().keySet()).containsExactly("0.weight");
    assertThat(tree.stateDict().keySet()).as("state_dict() keeps duplicates, as torch's")
        .containsExactly("0.weight", "2.weight");
  }

  @Test
  void namedParametersAndBuffersFollowTheModules() {
    Sequential tree = tree();

    assertThat(tree.namedParameters().keySet())
        .containsExactly("0.weight", "0.bias", "1.0.weight", "1.0.bias", "2.weight");
    assertThat(tree.namedBuffers().keySet())
        .containsExactly("1.0.running_mean", "1.0.running_var", "1.0.num_batches_tracked");
    assertThat(tree.stateDict().keySet()).containsExactly("0.weight", "0.bias", "1.0.weight", "1.0.bias",
        "1.0.running_mean", "1.0.running_var", "1.0.num_batches_tracked", "2.weight");
  }

  @Test
  void nonPersistentBuffersAreNamedButNotSavedOrLoaded() {
    WithScratch module = new WithScratch();

    assertThat(module.namedBuffers().keySet()).containsExactly("kept", "scratch");
    assertThat(module.stateDict().keySet()).containsExactly("scale", "kept");
    Map<String, Tensor> state = new LinkedHashMap<>(module.stateDict());
    state.put("scratch", Tensor.of(0f));
    assertThatThrownBy(() -> module.loadStateDict(state, true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessage("Error(s) in loading state_dict for WithScratch:\n"
            + "\tUnexpected key(s) in state_dict: \"scratch\". ");
  }

  @Test
  void batchNormInitialisesAsTorch() {
    BatchNorm1d bn = new BatchNorm1d(3);
    assertThat(bn.weight().orElseThrow().toArray()).containsExactly(1, 1, 1);
    assertThat(bn.bias().orElseThrow().toArray()).containsExactly(0, 0, 0);
    assertThat(bn.runningMean().orElseThrow().toArray()).containsExactly(0, 0, 0);
    assertThat(bn.runningVar().orElseThrow().toArray()).containsExactly(1, 1, 1);
    assertThat(bn.stateDict().get("num_batches_tracked").dtype()).isEqualTo(Dtype.INT64);
    assertThat(bn.numBatchesTracked()).isZero();
    assertThat(new BatchNorm1d(3, 1e-5, null, false, false).stateDict()).as("no affine, no running stats").isEmpty();
  }

  @Test
  void integerBufferStaysAnIntegerWhenLoadedFromAFloatTensor() {
    BatchNorm1d bn = new BatchNorm1d(2);
    Map<String, Tensor> state = new LinkedHashMap<>(bn.stateDict());
    state.put("num_batches_tracked", new Tensor(new float[] {7.9f}));
    state.put("running_var", Tensor.wrapLongs(new long[] {3, 4}, 2));

    bn.loadStateDict(state, true);

    assertThat(bn.stateDict().get("num_batches_tracked").dtype()).isEqualTo(Dtype.INT64);
    assertThat(bn.numBatchesTracked()).as("converted as copy_ does: truncated").isEqualTo(7);
    assertThat(bn.stateDict().get("running_var").dtype()).isEqualTo(Dtype.FLOAT32);
    assertThat(bn.runningVar().orElseThrow().toArray()).containsExactly(3, 4);
  }

  @Test
  void bufferOfTheWrongShapeIsASizeMismatch() {
    BatchNorm1d bn = new BatchNorm1d(2);
    Map<String, Tensor> state = new LinkedHashMap<>(bn.stateDict());
    state.put("running_mean", Tensor.of(1f, 2f, 3f));
    state.put("num_batches_tracked", Tensor.wrapLongs(new long[] {1, 2}, 1, 2));

    assertThatThrownBy(() -> bn.loadStateDict(state, false))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessage("Error(s) in loading state_dict for BatchNorm1d:\n"
            + "\tsize mismatch for running_mean: copying a param with shape [3] from checkpoint, the shape in current"
            + " model is [2].\n"
            + "\tsize mismatch for num_batches_tracked: copying a param with shape [1, 2] from checkpoint, the shape in"
            + " current model is [].");
  }

  @Test
  void aOneDimensionalValueLoadsIntoAScalarAsItsFirstValueAsInTorch() {
    BatchNorm1d bn = new BatchNorm1d(2);
    Map<String, Tensor> state = new LinkedHashMap<>(bn.stateDict());
    state.put("num_batches_tracked", Tensor.wrapLongs(new long[] {11, 12}, 2));

    bn.loadStateDict(state, true);

    assertThat(bn.numBatchesTracked()).isEqualTo(11);
    assertThat(bn.stateDict().get("num_batches_tracked").shape()).isEmpty();
  }

  @Test
  void applyVisitsChildrenBeforeTheirParent() {
    Sequential tree = tree();
    List<Module> visited = new ArrayList<>();

    assertThat(tree.apply(visited::add)).isSameAs(tree);

    Sequential inner = (Sequential) tree.get(1);
    assertThat(visited).containsExactly(tree.get(0), inner.get(0), inner.get(1), inner, tree.get(2), tree);
  }

  @Test
  void trainAndEvalReachEveryNode() {
    Sequential tree = tree();
    assertThat(tree.modules()).allMatch(Module::isTraining);
    tree.eval();
    assertThat(tree.modules()).noneMatch(Module::isTraining);
    tree.train(true);
    assertThat(tree.modules()).allMatch(Module::isTraining);
  }

  @Test
  void namesAreUniqueAcrossParametersBuffersAndChildren() {
    assertThatThrownBy(() -> new Module() {
      {
        registerBuffer("w", Tensor.of(1f), true);
        registerParameter("w", new Parameter(Tensor.of(1f)));
      }

      @Override
      protected FloatBlock forward(FloatBlock input, CallContext context) {
        return null;
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessage("attribute 'w' already exists as a buffer");
    assertThatThrownBy(() -> new Module() {
      {
        registerModule("m", new ReLU());
        registerBuffer("m", Tensor.of(1f), true);
      }

      @Override
      protected FloatBlock forward(FloatBlock input, CallContext context) {
        return null;
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessage("attribute 'm' already exists as a child module");
  }

  @Test
  void aTreeSurvivesJavaSerializationWithItsBuffers() throws IOException, ClassNotFoundException {
    Sequential tree = tree();
    Map<String, Tensor> state = new LinkedHashMap<>(tree.stateDict());
    state.put("1.0.num_batches_tracked", Tensor.ofLong(42));
    tree.loadStateDict(state, true);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(tree);
    }
    Sequential copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (Sequential) in.readObject();
    }
    assertThat(copy.stateDict()).isEqualTo(tree.stateDict());
    assertThat(copy.stateDict().get("1.0.num_batches_tracked").toLongArray()).containsExactly(42);
    assertThat(copy).hasToString(tree.toString());
  }
}
