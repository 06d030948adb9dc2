package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.tensor.Tensor;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tensor of {@code module.weights.tensors}, written in the config: a list of numbers (1-D), a list of rows of one
 * length (2-D), or an integer (a 0-D count such as BatchNorm's {@code num_batches_tracked}, stored as int64).
 *
 * @param shape the tensor's shape: {@code []}, {@code [n]} or {@code [rows, cols]}
 * @param values its values in row-major order
 */
public record InlineTensor(List<Integer> shape, List<Float> values) implements Serializable {
  /** What a tensor must be written as, for messages. */
  static final String EXPECT = "a list of finite numbers, a list of rows of one length, or an integer";

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  static InlineTensor of(JsonNode node) {
    if (node.isIntegralNumber()) {
      return new InlineTensor(List.of(), List.of(node.floatValue()));
    }
    boolean matrix = node.isArray() && !node.isEmpty() && node.get(0).isArray();
    List<JsonNode> rows = new ArrayList<>();
    (matrix ? node : List.of(node)).forEach(rows::add);
    List<Float> values = new ArrayList<>();
    for (JsonNode row : rows) {
      Values.require(row.isArray() && !row.isEmpty() && row.size() == rows.get(0).size());
      row.forEach(value -> {
        Values.require(value.isNumber() && Float.isFinite(value.floatValue()));
        values.add(value.floatValue());
      });
    }
    return new InlineTensor(matrix ? List.of(rows.size(), rows.get(0).size()) : List.of(values.size()),
        List.copyOf(values));
  }

  /** The tensors as a state dict, in the order given. */
  public static Map<String, Tensor> stateDict(Map<String, InlineTensor> tensors) {
    Map<String, Tensor> state = new LinkedHashMap<>();
    tensors.forEach((key, tensor) -> state.put(key, tensor.toTensor()));
    return state;
  }

  private Tensor toTensor() {
    if (shape.isEmpty()) {
      return Tensor.ofLong(values.get(0).longValue());
    }
    return Tensor.wrap(Values.floats(values), shape.stream().mapToInt(Integer::intValue).toArray());
  }
}
