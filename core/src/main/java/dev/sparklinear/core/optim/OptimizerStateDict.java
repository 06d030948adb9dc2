package dev.sparklinear.core.optim;

import dev.sparklinear.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An optimizer's state in the structure of torch's {@code optimizer.state_dict()}: {@code state} maps a parameter's
 * index to its tensors ({@code step}, {@code exp_avg}, {@code exp_avg_sq}, {@code max_exp_avg_sq},
 * {@code momentum_buffer}), and {@code paramGroups} holds one map per parameter group with the hyper-parameters
 * under torch's names, {@code params} (the indices) and {@code param_names} (the parameters' dotted names, as newer
 * torch versions write when given named parameters).
 *
 * <p>Group values are {@code Double}, {@code Boolean}, {@code List<Double>} ({@code betas}), {@code List<Integer>}
 * ({@code params}), {@code List<String>} ({@code param_names}) or null (torch's {@code None}, as {@code foreach}),
 * so the groups can be written as JSON and the tensors as safetensors. A {@code None} in a torch state entry (an SGD
 * {@code momentum_buffer} without momentum) is an absent key here. The maps are unmodifiable copies.
 */
public record OptimizerStateDict(Map<Integer, Map<String, Tensor>> state, List<Map<String, Object>> paramGroups) {

  public OptimizerStateDict {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(paramGroups, "paramGroups");
    Map<Integer, Map<String, Tensor>> stateCopy = new TreeMap<>();
    state.forEach((index, entries) -> stateCopy.put(
        Objects.requireNonNull(index, "state index"), Collections.unmodifiableMap(new LinkedHashMap<>(entries))));
    state = Collections.unmodifiableMap(stateCopy);
    List<Map<String, Object>> groupsCopy = new ArrayList<>();
    for (Map<String, Object> group : paramGroups) {
      groupsCopy.add(Collections.unmodifiableMap(new LinkedHashMap<>(group)));
    }
    paramGroups = Collections.unmodifiableList(groupsCopy);
  }
}
