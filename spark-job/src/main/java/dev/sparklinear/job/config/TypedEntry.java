package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An entry of a typed list in the config, a {@link Hook} or a {@link Layer}: one record per type, written as a name
 * ({@code relu}) or a map with {@code type} and the record's parameters. The family's sealed interface lists its
 * types, by config name, in {@code @JsonSubTypes}.
 */
public interface TypedEntry extends Serializable {
  /** The config name of this entry's type, e.g. {@code l2-normalize}; {@code class} for a user hook class. */
  default String typeName() {
    return Arrays.stream(getClass().getInterfaces()).filter(family -> family.isAnnotationPresent(JsonSubTypes.class))
        .flatMap(family -> ConfigKey.subtypes(family).entrySet().stream()).filter(type -> type.getValue() == getClass())
        .map(Map.Entry::getKey).findFirst().orElse("class");
  }

  /** A short form for the run summary, with the parameters set: vectors show as their length. */
  default String summary() {
    String params = Arrays.stream(getClass().getRecordComponents())
        .map(c -> ConfigKey.kebab(c.getName()) + ": " + ConfigKey.display(ConfigKey.read(c, this)))
        .filter(text -> !text.endsWith(": null")).collect(Collectors.joining(", "));
    return typeName() + (params.isEmpty() ? "" : " {" + params + "}");
  }
}
