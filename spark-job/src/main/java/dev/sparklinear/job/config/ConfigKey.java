package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.sparklinear.spark.ConfigEnum;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A documented config key: the path of record components from {@link JobConfig} to the {@link Key}-annotated one that
 * holds it. The list of keys is read from the records, so a key is declared, typed and documented in one place.
 *
 * <p>Keys are kebab-case with dots for hierarchy ({@code block.max-rows}). Besides these, any key under
 * {@code spark.} is passed to the Spark session as it is, and any key under {@code input.options.} is one reader
 * option.
 */
record ConfigKey(String key, List<RecordComponent> path, Key doc) {
  /** Keys under this prefix are free-form Spark settings, kept as strings with the prefix. */
  static final String SPARK_PREFIX = "spark.";
  private static final PropertyNamingStrategies.NamingBase KEBAB = new PropertyNamingStrategies.KebabCaseStrategy();
  private static final Pattern WITHOUT = Pattern.compile("without `([a-z.-]+)`");
  private static final List<ConfigKey> ALL = collect(JobConfig.class, "", List.of(), new ArrayList<>());

  private static List<ConfigKey> collect(Class<?> section, String prefix, List<RecordComponent> parents,
      List<ConfigKey> keys) {
    for (RecordComponent component : section.getRecordComponents()) {
      List<RecordComponent> path = new ArrayList<>(parents);
      path.add(component);
      String key = prefix + kebab(component.getName());
      if (component.isAnnotationPresent(Key.class)) {
        keys.add(new ConfigKey(key, List.copyOf(path), component.getAnnotation(Key.class)));
      } else if (component.getType().isRecord()) {
        collect(component.getType(), key + ".", path, keys);
      }
    }
    return keys;
  }

  /** Every documented key, in documentation order. */
  static List<ConfigKey> all() {
    return ALL;
  }

  /** Every documented dotted key, in documentation order. */
  static List<String> keys() {
    return ALL.stream().map(ConfigKey::key).toList();
  }

  static Optional<ConfigKey> byKey(String key) {
    return ALL.stream().filter(k -> k.key.equals(key)).findFirst();
  }

  /**
   * The records of a family of list entries (the hooks), by the {@code type} that names them in config files, in
   * documentation order: what {@code @JsonSubTypes} on the family's sealed interface lists.
   */
  static Map<String, Class<?>> subtypes(Class<?> family) {
    return Arrays.stream(family.getAnnotation(JsonSubTypes.class).value()).collect(Collectors.toMap(
        JsonSubTypes.Type::name, JsonSubTypes.Type::value, (a, b) -> a, LinkedHashMap::new));
  }

  /** A Java name as config files spell it: {@code maxRows} is {@code max-rows}. */
  static String kebab(String name) {
    return KEBAB.translate(name);
  }

  RecordComponent component() {
    return path.get(path.size() - 1);
  }

  /** What a valid value is, for messages: {@code a positive integer}, {@code one of [array, vector, columns]}. */
  String expectation() {
    return doc.expect().isEmpty() ? expectation(component().getGenericType()) : doc.expect();
  }

  /** What a value of {@code type} is, where no {@link Key#expect()} says it: enums list their spellings. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static String expectation(Type type) {
    if (type instanceof Class<?> c && c.isEnum() && ConfigEnum.class.isAssignableFrom(c)) {
      return "one of [" + ConfigEnum.spellings((Class) c) + "]";
    }
    if (type instanceof ParameterizedType) {
      return "a list of numbers, e.g. [0.5, 1.5]";
    }
    return type == Float.class || type == Double.class ? "a number" : type == Integer.class ? "an integer"
        : type == Boolean.class ? "true or false" : type == InlineTensor.class ? InlineTensor.EXPECT : "a path";
  }

  /** The type as the docs and the missing-key messages word it: {@code positive integer}. */
  String typeText() {
    return expectation().replaceFirst("^an? ", "");
  }

  /** The default as the docs show it: the YAML text in backquotes, or words such as {@code none}. */
  String defaultText() {
    return doc.defaultYaml().isEmpty() ? doc.defaultText() : "`" + doc.defaultYaml() + "`";
  }

  /** Whether the key must be given: {@code yes}, or {@code without `other.key`} when that key is not given. */
  boolean required(Predicate<String> given) {
    Matcher without = WITHOUT.matcher(doc.required());
    return doc.required().equals("yes") || without.matches() && !given.test(without.group(1));
  }

  /** The value of this key in {@code config}; null when unset. */
  Object valueIn(Object config) {
    Object value = config;
    for (RecordComponent component : path) {
      value = value == null ? null : read(component, value);
    }
    return value;
  }

  /** The value of {@code component} in {@code record}. */
  static Object read(RecordComponent component, Object record) {
    try {
      return component.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Cannot read " + component + " of " + record, e);
    }
  }

  /** A value as the run summary shows it: enums in config spelling, vectors and matrices as their shape. */
  static Object display(Object value) {
    if (value instanceof ConfigEnum constant) {
      return constant.configValue();
    }
    if (value instanceof TypedEntry entry) {
      return entry.summary();
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> shown = new LinkedHashMap<>();
      map.forEach((key, entry) -> shown.put(key, display(entry)));
      return shown;
    }
    if (value instanceof InlineTensor tensor) {
      return "tensor " + tensor.shape();
    }
    if (value instanceof Record record) {
      Map<String, Object> shown = new LinkedHashMap<>();
      Arrays.stream(record.getClass().getRecordComponents())
          .forEach(c -> shown.put(kebab(c.getName()), display(read(c, record))));
      return shown;
    }
    if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Float) {
      return "vector [" + list.size() + "]";
    }
    if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof List<?> row) {
      return "matrix [" + list.size() + ", " + row.size() + "]";
    }
    if (value instanceof List<?> list) {
      return list.stream().map(ConfigKey::display).collect(Collectors.toList());
    }
    return value;
  }
}
