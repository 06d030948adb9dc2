package dev.sparklinear.core.weights;

import dev.sparklinear.core.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The tensors and metadata of one safetensors file, as {@link SafetensorsReader} read them: immutable, float values
 * already converted to float32 (integer ones kept as int64) and held on the heap (nothing stays open).
 *
 * <p>Keys are the names in the file, dotted as in a PyTorch state dict. {@link #withPrefix} selects one submodule's
 * tensors under the names that submodule expects, so that a layer can be loaded from a whole model's file:
 *
 * <pre>{@code
 * SafetensorsFile file = SafetensorsReader.read(Path.of("model.safetensors"));
 * Linear fc = new Linear(4, 3);
 * fc.loadStateDict(file.withPrefix("fc.").tensors(), true);   // fc.weight -> weight, fc.bias -> bias
 * }</pre>
 */
public final class SafetensorsFile {
  private final String source;
  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;

  SafetensorsFile(String source, Map<String, Tensor> tensors, Map<String, String> metadata) {
    this.source = Objects.requireNonNull(source, "source");
    this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /** The name the file was read under (its path, usually), as used in messages. */
  public String source() {
    return source;
  }

  /** Every tensor by name, in the order the file's header lists them. Unmodifiable. */
  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /** The header's {@code __metadata__} (string to string), in file order; empty when the file has none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The tensor called {@code name}.
   *
   * @throws WeightFileException naming the tensors the file has, when it has none called {@code name}
   */
  public Tensor tensor(String name) {
    Tensor tensor = tensors.get(Objects.requireNonNull(name, "name"));
    if (tensor == null) {
      throw new WeightFileException(source, "no tensor '" + name + "'; the file has " + names()
          + ". Check the name against the model's state_dict() keys.");
    }
    return tensor;
  }

  /**
   * The tensors whose names start with {@code prefix}, under their names with the prefix removed, as PyTorch does
   * when it loads a submodule from a parent's state dict. Metadata is kept. An empty prefix selects everything.
   *
   * @throws WeightFileException naming the tensors the file has, when no name starts with {@code prefix}: an empty
   *     selection is always a wrong prefix, and failing here says so more clearly than a load with every key missing
   */
  public SafetensorsFile withPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    Map<String, Tensor> selected = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
      if (entry.getKey().startsWith(prefix)) {
        selected.put(entry.getKey().substring(prefix.length()), entry.getValue());
      }
    }
    if (selected.isEmpty() && !tensors.isEmpty()) {
      throw new WeightFileException(source, "no tensor name starts with '" + prefix + "'; the file has " + names()
          + ". Use the prefix of one of these names (for 'fc.weight' it is 'fc.').");
    }
    return new SafetensorsFile(source, selected, metadata);
  }

  private String names() {
    if (tensors.isEmpty()) {
      return "no tensors";
    }
    return tensors.keySet().stream().map(k -> "'" + k + "'").collect(Collectors.joining(", ", "[", "]"));
  }

  /** {@code SafetensorsFile(model.safetensors, fc.weight [3, 4], fc.bias [3])}. */
  @Override
  public String toString() {
    return tensors.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue().shapeString())
        .collect(Collectors.joining(", ", "SafetensorsFile(" + source + (tensors.isEmpty() ? "" : ", "), ")"));
  }
}
