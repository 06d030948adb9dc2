package dev.sparklinear.job.config;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One entry of {@code hooks.pre} or {@code hooks.forward}, checked: a built-in {@link HookType} with its parameters
 * (numbers as {@code Float}, vectors as {@code float[]}, paths and actions as {@code String}, bins as
 * {@code Integer}), or a user hook class with its parameters as strings. Immutable.
 */
public final class HookSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String where;
  private final HookType type;
  private final String className;
  private final Map<String, Object> params;

  private HookSpec(String where, HookType type, String className, Map<String, Object> params) {
    this.where = where;
    this.type = type;
    this.className = className;
    this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  static HookSpec builtIn(String where, HookType type, Map<String, Object> params) {
    return new HookSpec(where, type, null, params);
  }

  static HookSpec userClass(String where, String className, Map<String, String> params) {
    return new HookSpec(where, null, className, new LinkedHashMap<>(params));
  }

  /** The config entry, e.g. {@code hooks.forward[1]}. */
  public String where() {
    return where;
  }

  /** The built-in type; empty for a user hook class. */
  public Optional<HookType> type() {
    return Optional.ofNullable(type);
  }

  /** The user hook class; empty for a built-in. */
  public Optional<String> className() {
    return Optional.ofNullable(className);
  }

  /** {@code where} and what it is, for messages: {@code hooks.pre[0] (standardize)}. */
  public String label() {
    return where + " (" + (type != null ? type.configName() : className) + ")";
  }

  /** A number parameter, or null when not given. */
  public Float number(String name) {
    return (Float) params.get(name);
  }

  /** A vector parameter (a copy), or null when not given. */
  public float[] vector(String name) {
    float[] v = (float[]) params.get(name);
    return v == null ? null : v.clone();
  }

  /** A path or action parameter, or null when not given. */
  public String text(String name) {
    return (String) params.get(name);
  }

  /** An integer parameter, or null when not given. */
  public Integer integer(String name) {
    return (Integer) params.get(name);
  }

  /** A user hook's parameters as strings, in the order given. */
  public Map<String, String> classParams() {
    Map<String, String> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, (String) v));
    return Collections.unmodifiableMap(out);
  }

  /** A short form for the run summary: vectors show as their length. */
  public String summary() {
    String name = type != null ? type.configName() : "class " + className;
    if (params.isEmpty()) {
      return name;
    }
    return name + params.entrySet().stream()
        .map(e -> e.getKey() + ": " + (e.getValue() instanceof float[] v ? "vector [" + v.length + "]" : e.getValue()))
        .collect(Collectors.joining(", ", " {", "}"));
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof HookSpec that)) {
      return false;
    }
    if (!where.equals(that.where) || type != that.type || !Objects.equals(className, that.className)
        || !params.keySet().equals(that.params.keySet())) {
      return false;
    }
    return params.keySet().stream().allMatch(k -> Objects.deepEquals(params.get(k), that.params.get(k)));
  }

  @Override
  public int hashCode() {
    int hash = Objects.hash(where, type, className);
    for (Map.Entry<String, Object> e : params.entrySet()) {
      Object v = e.getValue();
      hash = 31 * hash + e.getKey().hashCode() + (v instanceof float[] f ? Arrays.hashCode(f) : v.hashCode());
    }
    return hash;
  }

  @Override
  public String toString() {
    return where + ": " + (type != null ? type.configName() : "class " + className) + params.entrySet().stream()
        .map(e -> e.getKey() + "=" + (e.getValue() instanceof float[] v ? Arrays.toString(v) : e.getValue()))
        .collect(Collectors.joining(", ", " {", "}"));
  }
}
