package dev.sparklinear.job.config;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The checks the config records run on their own values, in their compact constructors. A null value is a key not
 * given and passes. A failed check throws without a message: the binder words the problem from the key's
 * {@link Key#expect()}, with the value and where it was set.
 */
public final class Values {
  private Values() {}

  static void positive(Number value) {
    require(value == null || value.longValue() > 0);
  }

  static void notBlank(String value) {
    require(value == null || !value.isBlank());
  }

  /** A non-empty vector of finite numbers, immutable. */
  static List<Float> vector(List<Float> values) {
    require(values == null || !values.isEmpty() && values.stream().allMatch(v -> v != null && Float.isFinite(v)));
    return values == null ? null : List.copyOf(values);
  }

  /** A non-empty matrix of finite numbers whose rows all have the same length, immutable. */
  static List<List<Float>> matrix(List<List<Float>> rows) {
    if (rows == null) {
      return null;
    }
    require(!rows.isEmpty() && rows.stream().allMatch(row -> row != null && row.size() == rows.get(0).size()));
    return rows.stream().map(Values::vector).toList();
  }

  /** Distinct, non-blank names, immutable; {@code mayBeEmpty} or at least one. */
  static List<String> names(List<String> names, boolean mayBeEmpty) {
    if (names == null) {
      return null;
    }
    require((mayBeEmpty || !names.isEmpty()) && names.stream().allMatch(n -> n != null && !n.isBlank())
        && new HashSet<>(names).size() == names.size());
    return List.copyOf(names);
  }

  /** An unmodifiable copy that keeps the order given, as reader options and Spark settings are listed. */
  static <K, V> Map<K, V> ordered(Map<K, V> map) {
    return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  /** The values as a float array, for the hooks and the layer. */
  public static float[] floats(List<Float> values) {
    float[] array = new float[values.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = values.get(i);
    }
    return array;
  }

  /** Throws the problems found in one list entry (null for none), one a line, for the binder to say where it is. */
  static void check(String... problems) {
    String found = Arrays.stream(problems).filter(Objects::nonNull).collect(Collectors.joining("\n"));
    if (!found.isEmpty()) {
      throw new IllegalArgumentException(found);
    }
  }

  /** A problem when {@code value}, the parameter {@code name}, is given and not positive; else null. */
  static String positive(String name, Integer value) {
    return value == null || value > 0 ? null : "parameter '" + name + "' must be a positive integer, got " + value;
  }

  static void require(boolean valid) {
    if (!valid) {
      throw new IllegalArgumentException();
    }
  }
}
