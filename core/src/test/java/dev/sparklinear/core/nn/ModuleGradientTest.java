package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Module#zeroGrad}, {@link Module#requiresGrad} and {@link Module#updateParameters} over module trees. */
class ModuleGradientTest {

  /** Two Linear layers that share one weight, as tied embeddings do in torch. */
  static final class Tied extends Module {
    private static final long serialVersionUID = 1L;
    final Linear a = new Linear(2, 2, false, 1L);
    final Linear b = new Linear(2, 2, true, 2L);

    Tied() {
      b.setWeight(a.weight());
      registerModule("a", a);
      registerModule("b", b);
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      try (FloatBlock hidden = a.call(input, context)) {
        return b.call(hidden, context);
      }
    }
  }

  private static Sequential tree() {
    return new Sequential(new Linear(3, 2, true, 1L), new ReLU(), new Linear(2, 1, true, 2L));
  }

  @Test
  void zeroGradSetsEveryGradientToNoneOrZeros() {
    Sequential net = tree();
    net.namedParameters().values().forEach(p -> p.setGrad(Tensor.wrap(ones(p.numel()), p.shape())));
    net.zeroGrad(false);
    assertThat(net.namedParameters().values())
        .allSatisfy(p -> assertThat(p.grad()).isEqualTo(Tensor.wrap(new float[p.numel()], p.shape())));
    net.zeroGrad();
    assertThat(net.namedParameters().values()).allSatisfy(p -> assertThat(p.grad()).isNull());
  }

  @Test
  void requiresGradFreezesAndUnfreezesTheWholeTree() {
    Sequential net = tree();
    assertThat(net.children().get(0).requiresGrad(false)).isSameAs(net.children().get(0));
    assertThat(net.namedParameters()).allSatisfy((name, p) ->
        assertThat(p.requiresGrad()).as(name).isEqualTo(name.startsWith("2.")));
    net.requiresGrad(true);
    assertThat(net.namedParameters().values()).allSatisfy(p -> assertThat(p.requiresGrad()).isTrue());
  }

  @Test
  void updateParametersChangesWhatTheModuleComputes() {
    Linear fc = new Linear(2, 1, true, 1L);
    fc.updateParameters(Map.of("weight", Tensor.of(new float[][] {{2, 3}}), "bias", Tensor.of(0.5f)));
    assertThat(fc.call(1f, 10f)).containsExactly(32.5f);
  }

  @Test
  void updateParametersKeepsTheFlagAndTheGradient() {
    Linear fc = new Linear(2, 1, true, 1L);
    fc.weight().accumulateGrad(Tensor.of(new float[][] {{7, 8}}));
    fc.bias().get().setRequiresGrad(false);
    fc.updateParameters(Map.of("weight", Tensor.of(new float[][] {{2, 3}}), "bias", Tensor.of(0.5f)));
    assertThat(fc.weight().grad()).isEqualTo(Tensor.of(new float[][] {{7, 8}}));
    assertThat(fc.weight().requiresGrad()).isTrue();
    assertThat(fc.bias().get().requiresGrad()).isFalse();
  }

  @Test
  void updateParametersKeepsASharedParameterShared() {
    Tied tied = new Tied();
    assertThat(tied.namedParameters()).containsOnlyKeys("a.weight", "b.bias");
    tied.updateParameters(Map.of("a.weight", Tensor.of(new float[][] {{1, 2}, {3, 4}})));
    assertThat(tied.b.weight()).isSameAs(tied.a.weight());
    assertThat(tied.b.weight().toArray()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void failedUpdateChangesNothing() {
    Sequential net = tree();
    Map<String, Tensor> before = net.stateDict();
    Map<String, Tensor> validThenInvalid = new LinkedHashMap<>();
    validThenInvalid.put("0.bias", Tensor.of(1f, 2f));
    validThenInvalid.put("2.weight", Tensor.of(1f, 2f));
    assertThatThrownBy(() -> net.updateParameters(validThenInvalid))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot update parameter '2.weight' of shape [1, 2] with values of shape [2]");
    assertThatThrownBy(() -> net.updateParameters(Map.of("3.weight", Tensor.of(1f))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Sequential has no parameter '3.weight'");
    assertThat(net.stateDict()).isEqualTo(before);
  }

  private static float[] ones(int n) {
    float[] out = new float[n];
    Arrays.fill(out, 1f);
    return out;
  }
}
