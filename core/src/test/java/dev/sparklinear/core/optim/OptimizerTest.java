package dev.sparklinear.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ReLU;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every optimizer does the same way: which parameters a step touches, gradients, and loading state dicts. */
class OptimizerTest {

  private static Module net() {
    Module net = new Sequential(new Linear(2, 2, true, 1L), new ReLU(), new Linear(2, 1, true, 2L));
    net.namedParameters().values().forEach(p -> p.setGrad(Tensor.wrap(new float[p.numel()], p.shape())));
    return net;
  }

  private static void setGrads(Module net, float value) {
    net.namedParameters().values().forEach(p -> {
      float[] g = new float[p.numel()];
      Arrays.fill(g, value);
      p.setGrad(Tensor.wrap(g, p.shape()));
    });
  }

  @Test
  void indexesParametersInNamedParametersOrder() {
    assertThat(new SGD(net(), SGD.options(0.1)).parameterNames())
        .containsExactly("0.weight", "0.bias", "2.weight", "2.bias");
  }

  @Test
  void rejectsAModuleWithoutParametersWithTorchsMessage() {
    assertThatThrownBy(() -> new SGD(new ReLU(), SGD.options(0.1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("optimizer got an empty parameter list");
  }

  @Test
  void stepMovesAgainstTheGradientAndSkipsParametersWithoutOne() {
    Module net = net();
    Map<String, Tensor> before = net.stateDict();
    setGrads(net, 1f);
    net.namedParameters().get("2.bias").setGrad(null);
    new SGD(net, SGD.options(0.5)).step();
    net.stateDict().forEach((name, value) -> {
      float[] expected = before.get(name).toArray();
      if (!name.equals("2.bias")) {
        for (int i = 0; i < expected.length; i++) {
          expected[i] -= 0.5f;
        }
      }
      assertThat(value.toArray()).as(name).containsExactly(expected);
    });
  }

  @Test
  void stepKeepsTheGradientsAndZeroGradClearsThem() {
    Module net = net();
    setGrads(net, 2f);
    SGD sgd = new SGD(net, SGD.options(0.1));
    sgd.step();
    assertThat(net.namedParameters().get("0.weight").grad()).isEqualTo(Tensor.of(new float[][] {{2, 2}, {2, 2}}));
    sgd.zeroGrad(false);
    assertThat(net.namedParameters().get("0.weight").grad()).isEqualTo(Tensor.of(new float[][] {{0, 0}, {0, 0}}));
    sgd.zeroGrad();
    assertThat(net.namedParameters().values()).allSatisfy(p -> assertThat(p.grad()).isNull());
  }

  @Test
  void stepChangesWhatTheModuleComputes() {
    Linear fc = new Linear(1, 1, true, 1L);
    fc.updateParameters(Map.of("weight", Tensor.of(new float[][] {{2}}), "bias", Tensor.of(0f)));
    fc.weight().setGrad(Tensor.of(new float[][] {{1}}));
    new SGD(fc, SGD.options(0.5)).step();
    assertThat(fc.call(3f)).containsExactly(4.5f); // (2 - 0.5) * 3
  }

  @Test
  void stateDictHasTorchsStructure() {
    Module net = net();
    setGrads(net, 1f);
    net.namedParameters().get("0.bias").setGrad(null);
    Adam adam = new Adam(net);
    adam.step();
    OptimizerStateDict sd = adam.stateDict();
    assertThat(sd.state()).containsOnlyKeys(0, 2, 3);
    assertThat(sd.state().get(0)).containsOnlyKeys("step", "exp_avg", "exp_avg_sq");
    assertThat(sd.state().get(0).get("step")).isEqualTo(Tensor.wrap(new float[] {1}));
    assertThat(sd.paramGroups()).hasSize(1);
    assertThat(sd.paramGroups().get(0)).containsEntry("params", List.of(0, 1, 2, 3))
        .containsEntry("param_names", List.of("0.weight", "0.bias", "2.weight", "2.bias"))
        .containsEntry("betas", List.of(0.9, 0.999));
  }

  @Test
  void stateDictIsACopy() {
    Module net = net();
    setGrads(net, 1f);
    SGD sgd = new SGD(net, SGD.options(0.1).momentum(0.9));
    sgd.step();
    OptimizerStateDict first = sgd.stateDict();
    Tensor buffer = first.state().get(0).get("momentum_buffer");
    sgd.step();
    assertThat(first.state().get(0).get("momentum_buffer")).isEqualTo(buffer);
    assertThat(sgd.stateDict().state().get(0).get("momentum_buffer")).isNotEqualTo(buffer);
  }

  @Test
  void loadingAnotherOptimizersStateDictSaysSo() {
    Module net = net();
    setGrads(net, 1f);
    SGD sgd = new SGD(net, SGD.options(0.1).momentum(0.9));
    sgd.step();
    assertThatThrownBy(() -> new Adam(net).loadStateDict(sgd.stateDict()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loaded state dict's parameter group is not one of Adam: missing [amsgrad, betas, eps],"
            + " unexpected [dampening, momentum, nesterov]; was it saved by another optimizer?");
  }

  @Test
  void loadingAStateDictOfAnotherParameterCountGivesTorchsMessage() {
    Module net = net();
    OptimizerStateDict other = new SGD(new Linear(2, 2), SGD.options(0.1)).stateDict();
    assertThatThrownBy(() -> new SGD(net, SGD.options(0.1)).loadStateDict(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    assertThatThrownBy(() -> new SGD(net, SGD.options(0.1)).loadStateDict(new OptimizerStateDict(Map.of(), List.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loaded state dict has a different number of parameter groups");
  }

  @Test
  void loadingAStateDictOfOtherParameterNamesSaysWhich() {
    Module net = net();
    Module other = new Sequential(new Linear(2, 2), new Linear(2, 1));
    OptimizerStateDict sd = new SGD(other, SGD.options(0.1)).stateDict();
    assertThatThrownBy(() -> new SGD(net, SGD.options(0.1)).loadStateDict(sd))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loaded state dict is for parameters [0.weight, 0.bias, 1.weight, 1.bias], this optimizer's are"
            + " [0.weight, 0.bias, 2.weight, 2.bias]");
  }

  @Test
  void loadingStateOfAnotherShapeFailsAndChangesNothing() {
    Module net = net();
    setGrads(net, 1f);
    Adam adam = new Adam(net, Adam.options().lr(0.5));
    adam.step();
    OptimizerStateDict before = adam.stateDict();
    Map<Integer, Map<String, Tensor>> state = new LinkedHashMap<>(before.state());
    Map<String, Tensor> damaged = new LinkedHashMap<>(state.get(2));
    damaged.put("exp_avg_sq", Tensor.of(1f, 2f, 3f));
    state.put(2, damaged);
    Map<String, Object> group = new LinkedHashMap<>(before.paramGroups().get(0));
    group.put("lr", 0.25);
    assertThatThrownBy(() -> adam.loadStateDict(new OptimizerStateDict(state, List.of(group))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("size mismatch for state 2 ('2.weight') exp_avg_sq: copying a tensor with shape [3] from the"
            + " state dict, the shape of the parameter is [1, 2].");
    assertThat(adam.stateDict()).isEqualTo(before);
  }

  @Test
  void loadingAdamStateWithoutItsMomentsSaysWhatIsMissing() {
    Module net = net();
    Map<String, Object> group = new LinkedHashMap<>(new Adam(net).stateDict().paramGroups().get(0));
    OptimizerStateDict sd = new OptimizerStateDict(Map.of(1, Map.of("step", Tensor.wrap(new float[] {3}))),
        List.of(group));
    assertThatThrownBy(() -> new Adam(net).loadStateDict(sd))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loaded state dict's state for parameter 1 ('0.bias') lacks step, exp_avg or exp_avg_sq (a"
            + " one-value step); has [step]");
  }

  @Test
  void loadingBringsTheSavedHyperParametersAsTorchDoes() {
    Module net = net();
    OptimizerStateDict sd = new SGD(net, SGD.options(0.25).momentum(0.5)).stateDict();
    SGD loaded = new SGD(net, SGD.options(3));
    loaded.loadStateDict(sd);
    assertThat(loaded.stateDict().paramGroups().get(0)).containsEntry("lr", 0.25).containsEntry("momentum", 0.5);
  }

  @Test
  void loadingChecksTheSavedHyperParametersAsTheConstructorDoes() {
    Module net = net();
    Map<String, Object> group = new LinkedHashMap<>(new SGD(net, SGD.options(0.1)).stateDict().paramGroups().get(0));
    group.put("lr", -1.0);
    assertThatThrownBy(() -> new SGD(net, SGD.options(0.1)).loadStateDict(new OptimizerStateDict(Map.of(),
        List.of(group))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid learning rate: -1.0");
  }

  /** A module whose child can be swapped, as a subclass of torch's Module can reassign {@code self.fc}. */
  static final class Holder extends Module {
    private static final long serialVersionUID = 1L;

    Holder() {
      registerModule("fc", new Linear(1, 1));
    }

    void dropTheLayer() {
      registerModule("fc", new ReLU());
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      throw new UnsupportedOperationException("Holder only holds parameters for the optimizer; it is never called");
    }
  }

  @Test
  void stepFailsClearlyWhenAParameterLeftTheModule() {
    Holder holder = new Holder();
    SGD sgd = new SGD(holder, SGD.options(0.1));
    holder.dropTheLayer();
    assertThatThrownBy(sgd::step)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Cannot step: parameter 'fc.weight' is no longer in Holder; make a new optimizer after changing"
            + " the module's parameters");
  }
}
