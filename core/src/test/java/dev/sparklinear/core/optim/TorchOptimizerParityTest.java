package dev.sparklinear.core.optim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.TorchJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every optimizer and hyper-parameter set of {@code torch-optim/optimizers.json} against PyTorch 1.13: the parameters
 * after each of five steps and the state dicts must equal torch's float32 results bit for bit, and a run resumed from
 * a state dict after step 2 (ours, or torch's) must continue exactly as the uninterrupted one.
 *
 * <p>The model is {@code nn.Sequential(nn.Linear(11, 3), nn.Linear(3, 2))} with {@code 0.bias} frozen (it never has
 * a gradient) and no gradient for {@code 1.bias} at step 3, so skipped parameters are covered too.
 */
class TorchOptimizerParityTest {
  private static final JsonNode FIXTURES = TorchJson.read("/torch-optim/optimizers.json");

  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    FIXTURES.get("cases").forEach(c -> out.add(Arguments.of(c.get("name").textValue(), c)));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void parametersAfterEachStepEqualTorchsBits(String name, JsonNode c) {
    Module model = model(c, c.get("initial"));
    Optimizer optimizer = optimizer(c, model);
    for (int step = 0; step < c.get("grads").size(); step++) {
      step(model, optimizer, c.get("grads").get(step));
      assertParameters(model, c.get("after").get(step), name + " after step " + (step + 1));
      if (step == 1) {
        assertStateDict(optimizer.stateDict(), c.get("state_dict_step_2"), name + " after step 2");
      }
    }
    assertStateDict(optimizer.stateDict(), c.get("state_dict"), name + " at the end");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void resumingFromOurStateDictContinuesExactly(String name, JsonNode c) {
    Module model = model(c, c.get("initial"));
    Optimizer optimizer = optimizer(c, model);
    step(model, optimizer, c.get("grads").get(0));
    step(model, optimizer, c.get("grads").get(1));
    OptimizerStateDict saved = optimizer.stateDict();
    resumeAndCheck(name, c, saved);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void resumingFromTorchsStateDictContinuesExactly(String name, JsonNode c) {
    resumeAndCheck(name, c, torchStateDict(c.get("state_dict_step_2")));
  }

  /** A fresh model holding torch's parameters after step 2 and a fresh optimizer loaded from {@code saved}. */
  private static void resumeAndCheck(String name, JsonNode c, OptimizerStateDict saved) {
    Module model = model(c, c.get("after").get(1));
    Optimizer optimizer = freshOptimizer(c.get("type").textValue(), model);
    optimizer.loadStateDict(saved);
    for (int step = 2; step < c.get("grads").size(); step++) {
      step(model, optimizer, c.get("grads").get(step));
      assertParameters(model, c.get("after").get(step), name + " resumed, after step " + (step + 1));
    }
  }

  private static void step(Module model, Optimizer optimizer, JsonNode grads) {
    optimizer.zeroGrad();
    model.namedParameters().forEach((key, p) -> {
      Tensor grad = TorchJson.tensor(grads.get(key));
      if (grad != null) {
        p.setGrad(grad);
      }
    });
    optimizer.step();
  }

  static Module model(JsonNode c, JsonNode parameters) {
    Module model = new Sequential(new Linear(11, 3), new Linear(3, 2));
    Map<String, Tensor> state = new LinkedHashMap<>();
    parameters.fields().forEachRemaining(e -> state.put(e.getKey(), TorchJson.tensor(e.getValue())));
    model.loadStateDict(state, true);
    c.get("requires_grad").fields().forEachRemaining(e ->
        model.namedParameters().get(e.getKey()).setRequiresGrad(e.getValue().booleanValue()));
    return model;
  }

  static Optimizer optimizer(JsonNode c, Module model) {
    JsonNode args = c.get("args");
    double lr = args.path("lr").asDouble(1e-3);
    return switch (c.get("type").textValue()) {
      case "SGD" -> new SGD(model, SGD.options(lr)
          .momentum(args.path("momentum").asDouble(0))
          .dampening(args.path("dampening").asDouble(0))
          .weightDecay(args.path("weight_decay").asDouble(0))
          .nesterov(args.path("nesterov").asBoolean(false))
          .maximize(args.path("maximize").asBoolean(false)));
      case "Adam", "AdamW" -> {
        AdamOptions options = c.get("type").textValue().equals("Adam") ? Adam.options() : AdamW.options();
        options.lr(lr).amsgrad(args.path("amsgrad").asBoolean(false)).maximize(args.path("maximize").asBoolean(false));
        if (args.has("betas")) {
          options.betas(args.get("betas").get(0).doubleValue(), args.get("betas").get(1).doubleValue());
        }
        if (args.has("eps")) {
          options.eps(args.get("eps").doubleValue());
        }
        if (args.has("weight_decay")) {
          options.weightDecay(args.get("weight_decay").doubleValue());
        }
        yield c.get("type").textValue().equals("Adam") ? new Adam(model, options) : new AdamW(model, options);
      }
      default -> throw new AssertionError(c.get("type"));
    };
  }

  /** An optimizer of the type with other hyper-parameters than the run's: loading must bring the run's. */
  private static Optimizer freshOptimizer(String type, Module model) {
    return switch (type) {
      case "SGD" -> new SGD(model, SGD.options(7));
      case "Adam" -> new Adam(model, Adam.options().lr(7).betas(0.5, 0.5));
      case "AdamW" -> new AdamW(model, AdamW.options().lr(7).weightDecay(0.5));
      default -> throw new AssertionError(type);
    };
  }

  private static void assertParameters(Module model, JsonNode expected, String what) {
    Map<String, Parameter> parameters = model.namedParameters();
    expected.fields().forEachRemaining(e -> assertThat(parameters.get(e.getKey()).toArray())
        .as("%s: %s", what, e.getKey())
        .containsExactly(TorchJson.tensor(e.getValue()).toArray()));
  }

  /** Torch's state dict as read from JSON: numbers as Double (params as Integer), None state entries absent. */
  static OptimizerStateDict torchStateDict(JsonNode sd) {
    Map<Integer, Map<String, Tensor>> state = new LinkedHashMap<>();
    sd.get("state").fields().forEachRemaining(e -> {
      Map<String, Tensor> entries = new LinkedHashMap<>();
      e.getValue().fields().forEachRemaining(t -> {
        if (!t.getValue().isNull()) {
          entries.put(t.getKey(), TorchJson.tensor(t.getValue()));
        }
      });
      state.put(Integer.valueOf(e.getKey()), entries);
    });
    List<Map<String, Object>> groups = new ArrayList<>();
    for (JsonNode group : sd.get("param_groups")) {
      Map<String, Object> out = new LinkedHashMap<>();
      group.fields().forEachRemaining(e -> out.put(e.getKey(), value(e.getKey(), e.getValue())));
      groups.add(out);
    }
    return new OptimizerStateDict(state, groups);
  }

  private static Object value(String key, JsonNode node) {
    if (node.isNull()) {
      return null;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isNumber()) {
      return node.doubleValue();
    }
    List<Object> list = new ArrayList<>();
    node.forEach(n -> list.add(key.equals("params") ? (Object) n.intValue() : (Object) n.doubleValue()));
    return list;
  }

  private static void assertStateDict(OptimizerStateDict ours, JsonNode torch, String what) {
    OptimizerStateDict expected = torchStateDict(torch);
    assertThat(ours.state()).as("%s: state", what).isEqualTo(expected.state());
    assertThat(ours.paramGroups()).as("%s: one group", what).hasSize(1);
    Map<String, Object> group = new LinkedHashMap<>(ours.paramGroups().get(0));
    assertThat(group.remove("param_names")).isEqualTo(List.of("0.weight", "0.bias", "1.weight", "1.bias"));
    assertThat(group).as("%s: param_groups", what).containsExactlyEntriesOf(expected.paramGroups().get(0));
  }
}
