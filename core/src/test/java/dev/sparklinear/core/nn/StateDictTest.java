package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Module#stateDict()} and {@link Module#loadStateDict}, checked against what PyTorch's do. */
class StateDictTest {

  /** {@code fc1 = nn.Linear(4, 3)}, {@code fc2 = nn.Linear(3, 2, bias=False)}, applied in turn. */
  static final class Net extends Module {
    private static final long serialVersionUID = 1L;
    final Linear fc1;
    final Linear fc2;

    Net(long seed) {
      fc1 = new Linear(4, 3, true, seed);
      fc2 = new Linear(3, 2, false, seed + 1);
      registerModule("fc1", fc1);
      registerModule("fc2", fc2);
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      try (FloatBlock hidden = fc1.call(input, context)) {
        return fc2.call(hidden, context);
      }
    }
  }

  private static float[][] outputs(Module module, float[][] x) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock input = FloatBlock.copyOf(allocator, x);
        FloatBlock output = module.call(input)) {
      return output.toRows();
    }
  }

  private static final float[][] X = {{1, -2, 3, -4}, {0.5f, 0.25f, -0.125f, 8}, {0, 0, 0, 0}};

  @Test
  void stateDictHasDottedKeysInRegistrationOrder() {
    Net net = new Net(1L);
    assertThat(net.stateDict()).containsOnlyKeys("fc1.weight", "fc1.bias", "fc2.weight");
    assertThat(net.stateDict().keySet()).containsExactly("fc1.weight", "fc1.bias", "fc2.weight");
    assertThat(net.stateDict().get("fc1.weight")).isEqualTo(net.fc1.weight());
    assertThat(net.stateDict().get("fc2.weight").shape()).containsExactly(2, 3);
  }

  @Test
  void stateDictIsUnmodifiable() {
    Net net = new Net(1L);
    assertThatThrownBy(() -> net.stateDict().remove("fc1.weight")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void roundTripIntoFreshModuleGivesEqualOutputs() {
    Net source = new Net(1L);
    Net target = new Net(100L);
    assertThat(outputs(target, X)).as("different seeds, different outputs").isNotEqualTo(outputs(source, X));

    IncompatibleKeys result = target.loadStateDict(source.stateDict(), true);

    assertThat(result.isEmpty()).isTrue();
    assertThat(target.stateDict()).isEqualTo(source.stateDict());
    assertThat(outputs(target, X)).as("same weights, same kernel: the same bits").isDeepEqualTo(outputs(source, X));
  }

  @Test
  void loadingReplacesWeightsAlreadyUsedByACall() {
    Linear fc = new Linear(2, 1, false, 5L);
    fc.call(1, 1);
    fc.loadStateDict(Map.of("weight", Tensor.of(new float[][] {{3, 4}})), true);
    assertThat(fc.call(1, 1)).containsExactly(7);
  }

  @Test
  void loadedValuesAreCopied() {
    Linear fc = new Linear(2, 1, false, 5L);
    float[] values = {3, 4};
    fc.loadStateDict(Map.of("weight", Tensor.wrap(values, 1, 2)), true);
    values[0] = 100;
    assertThat(fc.weight().toArray()).containsExactly(3, 4);
  }

  @Test
  void loadKeepsRequiresGradOfTheCurrentParameter() {
    Linear fc = new Linear(2, 1, false, 5L);
    fc.setWeight(new Parameter(Tensor.of(new float[][] {{1, 1}}), false));
    fc.loadStateDict(Map.of("weight", new Parameter(Tensor.of(new float[][] {{3, 4}}), true)), true);
    assertThat(fc.weight().requiresGrad()).isFalse();
  }

  @Test
  void strictLoadGathersEveryProblemIntoOnePyTorchStyleMessage() {
    Linear fc = new Linear(4, 3);
    Map<String, Tensor> checkpoint = new LinkedHashMap<>();
    checkpoint.put("weight", new Tensor(new float[15], 3, 5));
    checkpoint.put("foo", Tensor.of(1f));

    StateDictLoadException e =
        catchThrowableOfType(StateDictLoadException.class, () -> fc.loadStateDict(checkpoint, true));

    // PyTorch 1.13 words it the same, with torch.Size([3, 5]) where this prints [3, 5].
    assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessage(
        "Error(s) in loading state_dict for Linear:\n"
            + "\tMissing key(s) in state_dict: \"bias\". \n"
            + "\tUnexpected key(s) in state_dict: \"foo\". \n"
            + "\tsize mismatch for weight: copying a param with shape [3, 5] from checkpoint, "
            + "the shape in current model is [3, 4].");
    assertThat(e.missingKeys()).containsExactly("bias");
    assertThat(e.unexpectedKeys()).containsExactly("foo");
    assertThat(e.sizeMismatches()).containsExactly("weight");
  }

  @Test
  void strictLoadListsEveryMissingAndUnexpectedKey() {
    Net net = new Net(1L);
    Map<String, Tensor> checkpoint = new LinkedHashMap<>();
    checkpoint.put("fc1.weight", net.fc1.weight());
    checkpoint.put("fc3.weight", Tensor.of(1f));
    checkpoint.put("bias", Tensor.of(1f));

    assertThatThrownBy(() -> net.loadStateDict(checkpoint, true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessage("Error(s) in loading state_dict for Net:\n"
            + "\tMissing key(s) in state_dict: \"fc1.bias\", \"fc2.weight\". \n"
            + "\tUnexpected key(s) in state_dict: \"fc3.weight\", \"bias\". ");
  }

  @Test
  void failedLoadChangesNothing() {
    Net net = new Net(1L);
    Map<String, Tensor> before = net.stateDict();
    float[][] outputsBefore = outputs(net, X);
    Map<String, Tensor> checkpoint = new LinkedHashMap<>(new Net(2L).stateDict());
    checkpoint.put("fc2.weight", new Tensor(new float[4], 2, 2));

    assertThatThrownBy(() -> net.loadStateDict(checkpoint, true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessage("Error(s) in loading state_dict for Net:\n"
            + "\tsize mismatch for fc2.weight: copying a param with shape [2, 2] from checkpoint, "
            + "the shape in current model is [2, 3].");
    assertThat(net.stateDict()).as("fc1 is not loaded although its keys were fine").isEqualTo(before);
    assertThat(outputs(net, X)).isDeepEqualTo(outputsBefore);
  }

  @Test
  void nonStrictLoadReturnsIncompatibleKeysAndLoadsMatchingKeys() {
    Net net = new Net(1L);
    Net other = new Net(2L);
    Tensor fc2WeightBefore = net.fc2.weight();
    Map<String, Tensor> checkpoint = new LinkedHashMap<>();
    checkpoint.put("fc1.weight", other.fc1.weight());
    checkpoint.put("fc1.bias", other.fc1.bias().orElseThrow());
    checkpoint.put("head.weight", Tensor.of(1f));

    IncompatibleKeys result = net.loadStateDict(checkpoint, false);

    assertThat(result.missingKeys()).containsExactly("fc2.weight");
    assertThat(result.unexpectedKeys()).containsExactly("head.weight");
    assertThat(result.isEmpty()).isFalse();
    assertThat(net.fc1.weight()).isEqualTo(other.fc1.weight());
    assertThat(net.fc1.bias()).isEqualTo(other.fc1.bias());
    assertThat(net.fc2.weight()).as("a missing key leaves the parameter as it was").isEqualTo(fc2WeightBefore);
  }

  @Test
  void sizeMismatchFailsEvenWhenNonStrict() {
    Linear fc = new Linear(4, 3);
    Map<String, Tensor> before = fc.stateDict();
    Map<String, Tensor> checkpoint = new LinkedHashMap<>();
    checkpoint.put("weight", new Tensor(new float[15], 3, 5));
    checkpoint.put("foo", Tensor.of(1f));

    StateDictLoadException e =
        catchThrowableOfType(StateDictLoadException.class, () -> fc.loadStateDict(checkpoint, false));

    assertThat(e).hasMessage("Error(s) in loading state_dict for Linear:\n"
        + "\tsize mismatch for weight: copying a param with shape [3, 5] from checkpoint, "
        + "the shape in current model is [3, 4].");
    assertThat(e.missingKeys()).isEmpty();
    assertThat(e.unexpectedKeys()).isEmpty();
    assertThat(e.sizeMismatches()).containsExactly("weight");
    assertThat(fc.stateDict()).isEqualTo(before);
  }

  @Test
  void layerWithoutBiasRejectsBiasInStrictLoad() {
    Linear fc = new Linear(2, 2, false, 1L);
    Map<String, Tensor> checkpoint = new LinkedHashMap<>();
    checkpoint.put("weight", new Tensor(new float[4], 2, 2));
    checkpoint.put("bias", new Tensor(new float[2], 2));
    assertThatThrownBy(() -> fc.loadStateDict(checkpoint, true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessage("Error(s) in loading state_dict for Linear:\n"
            + "\tUnexpected key(s) in state_dict: \"bias\". ");
  }
}
