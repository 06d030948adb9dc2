package dev.sparklinear.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.optim.OptimizerStateDict;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.SafetensorsWriter;
import dev.sparklinear.core.weights.WeightFileException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files of a fit's checkpoint, in the output folder: {@value #MODEL} (the module's state dict under torch's keys,
 * with {@code module.weights.prefix} in front when set: what torch's {@code load_state_dict(load_file(...))} and
 * {@code run} read) and {@value #OPTIMIZER} (the optimizer's {@code state_dict()}: tensor {@code state.<i>.<name>}
 * for each state tensor of parameter {@code i}, and the parameter groups as JSON in the metadata), which
 * {@code fit.resume-from} reads back.
 */
final class FitCheckpoint {
  static final String MODEL = "model.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  /** The metadata key of the optimizer's type ({@code sgd}, {@code adam}, {@code adamw}). */
  static final String OPTIMIZER_TYPE = "optimizer";
  private static final String GROUPS = "param_groups";
  private static final String FORMAT = "spark-linear optimizer state";
  private static final Pattern STATE_KEY = Pattern.compile("state\\.(\\d+)\\.(.+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  private FitCheckpoint() {}

  /** The module's state dict as {@value #MODEL} holds it, under {@code prefix}. */
  static byte[] model(Module module, String prefix) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    module.stateDict().forEach((key, tensor) -> tensors.put(prefix + key, tensor));
    return SafetensorsWriter.toBytes(tensors, Map.of("format", "pt"));
  }

  /** The optimizer's state dict as {@value #OPTIMIZER} holds it. */
  static byte[] optimizer(OptimizerStateDict state, String type) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    state.state().forEach((index, entries) -> entries.forEach((name, tensor) ->
        tensors.put("state." + index + "." + name, tensor)));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", FORMAT);
    metadata.put(OPTIMIZER_TYPE, type);
    try {
      metadata.put(GROUPS, JSON.writeValueAsString(state.paramGroups()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write the optimizer's parameter groups as JSON", e);
    }
    return SafetensorsWriter.toBytes(tensors, metadata);
  }

  /**
   * Reads {@value #OPTIMIZER} back.
   *
   * @throws WeightFileException when it is not an optimizer state written by a fit, or is of another optimizer type
   */
  static OptimizerStateDict readOptimizer(byte[] bytes, String source, String expectedType) {
    SafetensorsFile file = SafetensorsReader.read(bytes, source);
    Map<String, String> metadata = file.metadata();
    if (!FORMAT.equals(metadata.get("format")) || metadata.get(GROUPS) == null) {
      throw new WeightFileException(source, "it is not the optimizer state of a fit (no '" + GROUPS + "' in its"
          + " metadata). Give fit.resume-from the output folder of an earlier spark-linear fit");
    }
    if (!expectedType.equals(metadata.get(OPTIMIZER_TYPE))) {
      throw new WeightFileException(source, "it holds the state of a " + metadata.get(OPTIMIZER_TYPE) + " optimizer,"
          + " but fit.optimizer is " + expectedType + ". Resume with the optimizer of the earlier fit");
    }
    Map<Integer, Map<String, Tensor>> state = new LinkedHashMap<>();
    file.tensors().forEach((key, tensor) -> {
      Matcher matcher = STATE_KEY.matcher(key);
      if (!matcher.matches()) {
        throw new WeightFileException(source, "unexpected tensor '" + key + "': an optimizer state holds tensors"
            + " named state.<index>.<name>");
      }
      state.computeIfAbsent(Integer.parseInt(matcher.group(1)), i -> new LinkedHashMap<>())
          .put(matcher.group(2), tensor);
    });
    try {
      List<Map<String, Object>> groups = JSON.readValue(metadata.get(GROUPS), new TypeReference<>() {});
      return new OptimizerStateDict(state, groups);
    } catch (JsonProcessingException e) {
      throw new WeightFileException(source, "its '" + GROUPS + "' metadata is not JSON: " + e.getOriginalMessage());
    }
  }
}
