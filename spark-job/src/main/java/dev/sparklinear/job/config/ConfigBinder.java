package dev.sparklinear.job.config;

import static dev.sparklinear.job.config.ConfigKey.BLOCK_MAX_BYTES;
import static dev.sparklinear.job.config.ConfigKey.BLOCK_MAX_ROWS;
import static dev.sparklinear.job.config.ConfigKey.HOOKS_FORWARD;
import static dev.sparklinear.job.config.ConfigKey.HOOKS_PRE;
import static dev.sparklinear.job.config.ConfigKey.INPUT_COLUMN;
import static dev.sparklinear.job.config.ConfigKey.INPUT_COLUMNS;
import static dev.sparklinear.job.config.ConfigKey.INPUT_OPTIONS;
import static dev.sparklinear.job.config.ConfigKey.INPUT_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_BIAS;
import static dev.sparklinear.job.config.ConfigKey.MODULE_IN_FEATURES;
import static dev.sparklinear.job.config.ConfigKey.MODULE_OUT_FEATURES;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_BIAS;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_BIAS_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_FORMAT;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_PREFIX;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_WEIGHT;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_PATH;

import dev.sparklinear.spark.InvalidRowPolicy;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a {@link RawConfig} into a {@link JobConfig}: checks every key and its type, applies defaults, then checks
 * the keys against each other (required keys, weight shapes, keys that only make sense together). Every problem is
 * gathered before anything is thrown.
 */
final class ConfigBinder {
  private static final String OPTIONS_PREFIX = INPUT_OPTIONS.key() + ".";
  private static final String DOCS = "docs/config.md";

  private final RawConfig raw;
  private final List<String> problems;
  /** Keys given with a valid value, then defaults for the keys not given. */
  private final Map<ConfigKey, Object> values = new EnumMap<>(ConfigKey.class);
  private final Set<ConfigKey> given = EnumSet.noneOf(ConfigKey.class);
  private final Set<ConfigKey> invalid = EnumSet.noneOf(ConfigKey.class);
  private final Map<String, String> options = new LinkedHashMap<>();
  private final Map<String, String> sparkConf = new LinkedHashMap<>();

  private ConfigBinder(RawConfig raw, List<String> problems) {
    this.raw = raw;
    this.problems = problems;
  }

  /** The bound config, or a {@link ConfigException} listing every problem (including those already in the list). */
  static JobConfig bind(RawConfig raw, List<String> problems) {
    ConfigBinder binder = new ConfigBinder(raw, problems);
    binder.readKeys();
    binder.applyDefaults();
    binder.checkRequired();
    binder.checkInputColumns();
    binder.checkWeights();
    binder.checkHooks();
    binder.checkInvalidRows();
    if (!problems.isEmpty()) {
      throw new ConfigException(raw.source(), problems);
    }
    return new JobConfig(raw.source(), binder.values, binder.options, binder.sparkConf);
  }

  private void readKeys() {
    Map<String, String> dottedOptions = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : raw.values().entrySet()) {
      String key = entry.getKey();
      Object value = entry.getValue();
      String where = raw.origin(key);
      if (key.startsWith(ConfigKey.SPARK_PREFIX) && key.length() > ConfigKey.SPARK_PREFIX.length()) {
        String text = scalarText(key, value, where, "(Spark settings are strings)");
        if (text != null) {
          sparkConf.put(key, text);
        }
      } else if (key.startsWith(OPTIONS_PREFIX) && key.length() > OPTIONS_PREFIX.length()) {
        String text = scalarText(key, value, where, "(reader options are strings)");
        if (text != null) {
          dottedOptions.put(key, text);
        }
      } else if (ConfigKey.byKey(key).isPresent()) {
        ConfigKey configKey = ConfigKey.byKey(key).get();
        given.add(configKey);
        Object converted = convert(configKey, value, where);
        if (converted == null) {
          invalid.add(configKey);
        } else {
          values.put(configKey, converted);
        }
      } else if (isSection(key)) {
        String example = ConfigKey.keys().stream().filter(k -> k.startsWith(key + ".")).findFirst()
            .orElse(ConfigKey.SPARK_PREFIX + "master");
        problems.add("Config section '" + key + "' in " + where + " must be a map of keys such as '" + example
            + "', got " + describe(value));
      } else {
        problems.add(unknownKey(key, where));
      }
    }
    mergeOptions(dottedOptions);
  }

  private static boolean isSection(String key) {
    return (key + ".").equals(ConfigKey.SPARK_PREFIX)
        || ConfigKey.keys().stream().anyMatch(k -> k.startsWith(key + "."));
  }

  private static String unknownKey(String key, String where) {
    List<String> candidates = new ArrayList<>(ConfigKey.keys());
    int dot = key.indexOf('.');
    if (dot > 0 && NearestKey.levenshtein(key.substring(0, dot + 1), ConfigKey.SPARK_PREFIX) <= 2) {
      candidates.add(ConfigKey.SPARK_PREFIX + key.substring(dot + 1));
    }
    return NearestKey.among(key, candidates)
        .map(nearest -> "Unknown config key '" + key + "' in " + where + "; did you mean '" + nearest + "'?")
        .orElse("Unknown config key '" + key + "' in " + where + "; the known keys are listed in " + DOCS);
  }

  @SuppressWarnings("unchecked")
  private void mergeOptions(Map<String, String> dottedOptions) {
    Object map = values.get(INPUT_OPTIONS);
    if (map != null) {
      options.putAll((Map<String, String>) map);
    }
    for (Map.Entry<String, String> entry : dottedOptions.entrySet()) {
      String name = entry.getKey().substring(OPTIONS_PREFIX.length());
      String where = raw.origin(entry.getKey());
      if (options.containsKey(name) && where.equals(raw.source()) && raw.origin(INPUT_OPTIONS.key()).equals(where)) {
        problems.add("Config key '" + entry.getKey() + "' is set twice in " + where
            + " (in input.options and as " + entry.getKey() + "); keep one");
      }
      options.put(name, entry.getValue());
    }
    values.put(INPUT_OPTIONS, Collections.unmodifiableMap(new LinkedHashMap<>(options)));
  }

  private void applyDefaults() {
    for (ConfigKey key : ConfigKey.values()) {
      if (!values.containsKey(key) && !invalid.contains(key)) {
        key.defaultValue().ifPresent(value -> values.put(key, value));
      }
    }
  }

  private void checkInvalidRows() {
    boolean quarantine = values.get(ConfigKey.INVALID_ROWS) == InvalidRowPolicy.QUARANTINE;
    Object path = values.get(ConfigKey.OUTPUT_QUARANTINE_PATH);
    if (quarantine && path == null && !invalid.contains(ConfigKey.OUTPUT_QUARANTINE_PATH)) {
      problems.add("Missing key 'output.quarantine-path' in " + raw.source() + ": invalid-rows is quarantine, so"
          + " the invalid rows need a place to go; add it, or choose invalid-rows error, skip or null");
    } else if (!quarantine && path != null) {
      problems.add("output.quarantine-path in " + raw.origin(ConfigKey.OUTPUT_QUARANTINE_PATH.key()) + " is only"
          + " used with invalid-rows: quarantine; remove it, or set invalid-rows: quarantine");
    } else if (path != null && path.equals(values.get(ConfigKey.OUTPUT_PATH))) {
      problems.add("output.quarantine-path in " + raw.origin(ConfigKey.OUTPUT_QUARANTINE_PATH.key()) + " is the same"
          + " as output.path; choose another folder for the invalid rows");
    }
  }

  private void checkRequired() {
    for (ConfigKey key : ConfigKey.values()) {
      if (key.requirement() == ConfigKey.Requirement.REQUIRED && !given.contains(key)) {
        problems.add("Missing required key '" + key.key() + "' in " + raw.source() + "; add it, or pass "
            + RawConfig.OVERRIDE_FLAG + " " + key.key() + "=<" + key.type().description() + ">");
      }
    }
  }

  private void checkInputColumns() {
    boolean column = given.contains(INPUT_COLUMN);
    boolean columns = given.contains(INPUT_COLUMNS);
    if (column && columns) {
      problems.add("Both input.column and input.columns are set in " + raw.source()
          + "; set exactly one: input.column for a vector column, input.columns for a list of scalar columns");
    } else if (!column && !columns) {
      problems.add("Missing required key 'input.column' or 'input.columns' in " + raw.source()
          + "; set exactly one: input.column for a vector column, input.columns for a list of scalar columns");
    }
    if (columns && valid(INPUT_COLUMNS) && valid(MODULE_IN_FEATURES)) {
      int count = stringList(INPUT_COLUMNS).size();
      int inFeatures = (Integer) values.get(MODULE_IN_FEATURES);
      if (count != inFeatures) {
        problems.add("input.columns in " + raw.origin(INPUT_COLUMNS.key()) + " lists " + count + " columns, expected"
            + " in_features = " + inFeatures + "; list one column per input feature");
      }
    }
  }

  private void checkWeights() {
    boolean shapeKnown = valid(MODULE_IN_FEATURES) && valid(MODULE_OUT_FEATURES);
    if (shapeKnown) {
      long size = (long) (Integer) values.get(MODULE_IN_FEATURES) * (Integer) values.get(MODULE_OUT_FEATURES);
      if (size > Integer.MAX_VALUE) {
        problems.add("module.in-features * module.out-features = " + size + " in " + raw.source()
            + " is too large (must be < 2^31)");
        shapeKnown = false;
      }
    }
    if (!valid(MODULE_WEIGHTS_FORMAT) || !valid(MODULE_BIAS)) {
      return;
    }
    WeightsFormat format = (WeightsFormat) values.get(MODULE_WEIGHTS_FORMAT);
    boolean bias = (Boolean) values.get(MODULE_BIAS);
    String formatText = "module.weights.format is " + format.configValue();

    if (format != WeightsFormat.INLINE) {
      onlyWith(MODULE_WEIGHTS_WEIGHT, "module.weights.format: inline", formatText);
      onlyWith(MODULE_WEIGHTS_BIAS, "module.weights.format: inline", formatText);
      if (!given.contains(MODULE_WEIGHTS_PATH)) {
        problems.add("Missing key 'module.weights.path' in " + raw.source() + ": " + formatText
            + ", so the weights file is needed; give its path");
      }
    } else {
      onlyWith(MODULE_WEIGHTS_PATH, "module.weights.format: safetensors or npy", formatText);
    }
    if (format != WeightsFormat.NPY) {
      onlyWith(MODULE_WEIGHTS_BIAS_PATH, "module.weights.format: npy", formatText);
    } else if (bias && !given.contains(MODULE_WEIGHTS_BIAS_PATH)) {
      problems.add("Missing key 'module.weights.bias-path' in " + raw.source() + ": module.bias is true and "
          + formatText + ", so the bias file is needed; give it, or set module.bias: false");
    }
    if (format != WeightsFormat.SAFETENSORS && valid(MODULE_WEIGHTS_PREFIX)
        && !((String) values.get(MODULE_WEIGHTS_PREFIX)).isEmpty()) {
      onlyWith(MODULE_WEIGHTS_PREFIX, "module.weights.format: safetensors", formatText);
    }
    if (!bias) {
      // With another format these keys are already reported as unused.
      ConfigKey biasKey = format == WeightsFormat.INLINE ? MODULE_WEIGHTS_BIAS
          : format == WeightsFormat.NPY ? MODULE_WEIGHTS_BIAS_PATH : null;
      if (biasKey != null && given.contains(biasKey)) {
        problems.add(biasKey.key() + " in " + raw.origin(biasKey.key()) + " is set but module.bias is false; remove "
            + biasKey.key() + ", or set module.bias: true");
      }
    }
    if (format == WeightsFormat.INLINE) {
      checkInlineWeights(bias, shapeKnown);
    }
  }

  private void checkInlineWeights(boolean bias, boolean shapeKnown) {
    boolean weight = given.contains(MODULE_WEIGHTS_WEIGHT);
    if (bias && weight && !given.contains(MODULE_WEIGHTS_BIAS)) {
      problems.add("Missing key 'module.weights.bias' in " + raw.source() + ": module.bias is true and"
          + " module.weights.weight is given, so the bias is needed too; give it, or set module.bias: false");
    }
    if (bias && !weight && given.contains(MODULE_WEIGHTS_BIAS)) {
      problems.add("module.weights.bias in " + raw.origin(MODULE_WEIGHTS_BIAS.key()) + " is given without"
          + " module.weights.weight; give both, or neither to initialise the layer from module.init-seed");
    }
    if (!shapeKnown) {
      return;
    }
    int in = (Integer) values.get(MODULE_IN_FEATURES);
    int out = (Integer) values.get(MODULE_OUT_FEATURES);
    if (valid(MODULE_WEIGHTS_WEIGHT)) {
      float[][] matrix = (float[][]) values.get(MODULE_WEIGHTS_WEIGHT);
      if (matrix.length != out || matrix[0].length != in) {
        problems.add("module.weights.weight has shape [" + matrix.length + ", " + matrix[0].length + "], expected"
            + " [out_features, in_features] = [" + out + ", " + in + "] (in "
            + raw.origin(MODULE_WEIGHTS_WEIGHT.key()) + "); give one row of in_features values per output");
      }
    }
    if (bias && valid(MODULE_WEIGHTS_BIAS)) {
      float[] vector = (float[]) values.get(MODULE_WEIGHTS_BIAS);
      if (vector.length != out) {
        problems.add("module.weights.bias has shape [" + vector.length + "], expected [out_features] = [" + out
            + "] (in " + raw.origin(MODULE_WEIGHTS_BIAS.key()) + ")");
      }
    }
  }

  private void checkHooks() {
    if (valid(MODULE_IN_FEATURES) && valid(HOOKS_PRE)) {
      HookListBinder.checkWidths(hooks(HOOKS_PRE), raw.origin(HOOKS_PRE.key()), "in_features",
          (Integer) values.get(MODULE_IN_FEATURES), problems);
    }
    if (valid(MODULE_OUT_FEATURES) && valid(HOOKS_FORWARD)) {
      HookListBinder.checkWidths(hooks(HOOKS_FORWARD), raw.origin(HOOKS_FORWARD.key()), "out_features",
          (Integer) values.get(MODULE_OUT_FEATURES), problems);
    }
  }

  @SuppressWarnings("unchecked")
  private List<HookSpec> hooks(ConfigKey key) {
    return (List<HookSpec>) values.get(key);
  }

  private void onlyWith(ConfigKey key, String needed, String actual) {
    if (given.contains(key)) {
      problems.add(key.key() + " in " + raw.origin(key.key()) + " is only used with " + needed + ", but "
          + actual + "; remove " + key.key() + ", or change the format");
    }
  }

  private boolean valid(ConfigKey key) {
    return values.containsKey(key);
  }

  @SuppressWarnings("unchecked")
  private List<String> stringList(ConfigKey key) {
    return (List<String>) values.get(key);
  }

  // ---- one key at a time: each returns null after adding a problem ----

  private Object convert(ConfigKey key, Object value, String where) {
    switch (key.type()) {
      case POSITIVE_INT: {
        Long number = integer(value);
        return number != null && number >= 1 && number <= Integer.MAX_VALUE
            ? (Object) number.intValue() : wrongType(key, value, where);
      }
      case POSITIVE_LONG: {
        Long number = integer(value);
        return number != null && number >= 1 ? number : wrongType(key, value, where);
      }
      case INTEGER: {
        Long number = integer(value);
        return number != null ? number : wrongType(key, value, where);
      }
      case BOOLEAN:
        return value instanceof Boolean ? value : wrongType(key, value, where);
      case STRING:
        return isScalar(value) ? String.valueOf(value) : wrongType(key, value, where);
      case NON_EMPTY_STRING:
        return isScalar(value) && !String.valueOf(value).isBlank() ? String.valueOf(value)
            : wrongType(key, value, where);
      case ENUM:
        return enumValue(key, value, where);
      case STRING_LIST:
        return stringList(key, value, where);
      case STRING_MAP:
        return stringMap(key, value, where);
      case FLOAT_VECTOR:
        return floatVector(key, value, where);
      case FLOAT_MATRIX:
        return floatMatrix(key, value, where);
      case HOOK_LIST:
        return HookListBinder.bind(key, value, where, problems);
      default:
        throw new AssertionError(key.type());
    }
  }

  private Object wrongType(ConfigKey key, Object value, String where) {
    problems.add(key.key() + " in " + where + " must be " + expectation(key) + ", got " + describe(value));
    return null;
  }

  private static String expectation(ConfigKey key) {
    switch (key.type()) {
      case POSITIVE_INT:
      case POSITIVE_LONG:
        return "a positive integer";
      case INTEGER:
        return "an integer";
      case BOOLEAN:
        return "true or false";
      case STRING:
        return "a string";
      case NON_EMPTY_STRING:
        return "a non-empty string";
      case ENUM:
        return "one of " + key.allowedValues();
      case STRING_LIST:
        return "a list of strings, e.g. [a, b]";
      case STRING_MAP:
        return "a map of names to values, e.g. {header: \"true\"}";
      case FLOAT_VECTOR:
        return "a list of numbers, e.g. [0.1, 0.2]";
      case FLOAT_MATRIX:
        return "a list of rows of numbers, e.g. [[1, 2], [3, 4]]";
      case HOOK_LIST:
        return "a list of hooks, e.g. [relu, {type: clamp, min: 0}]";
      default:
        throw new AssertionError(key.type());
    }
  }

  private static Long integer(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger && ((BigInteger) value).bitLength() < 64) {
      return ((BigInteger) value).longValue();
    }
    return null;
  }

  private static boolean isScalar(Object value) {
    return value instanceof String || value instanceof Number || value instanceof Boolean;
  }

  private String scalarText(String key, Object value, String where, String why) {
    if (isScalar(value)) {
      return String.valueOf(value);
    }
    problems.add(key + " in " + where + " must be a string, number or boolean " + why + ", got " + describe(value));
    return null;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Object enumValue(ConfigKey key, Object value, String where) {
    if (value instanceof String && key.allowedValues().contains(((String) value).toLowerCase(Locale.ROOT))) {
      return Enum.valueOf((Class) key.enumType(), ((String) value).toUpperCase(Locale.ROOT).replace('-', '_'));
    }
    return wrongType(key, value, where);
  }

  private Object stringList(ConfigKey key, Object value, String where) {
    if (!(value instanceof List<?>)) {
      return wrongType(key, value, where);
    }
    List<String> strings = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    List<?> list = (List<?>) value;
    for (int i = 0; i < list.size(); i++) {
      Object element = list.get(i);
      if (!isScalar(element) || String.valueOf(element).isBlank()) {
        problems.add(key.key() + " in " + where + " must be a list of names, but entry " + i + " is "
            + describe(element));
        return null;
      }
      String name = String.valueOf(element);
      if (!seen.add(name)) {
        problems.add(key.key() + " in " + where + " lists '" + name + "' twice; list each column once");
        return null;
      }
      strings.add(name);
    }
    if (strings.isEmpty() && key == INPUT_COLUMNS) {
      problems.add("input.columns in " + where + " must list at least one column");
      return null;
    }
    return List.copyOf(strings);
  }

  private Object stringMap(ConfigKey key, Object value, String where) {
    if (!(value instanceof Map<?, ?>)) {
      return wrongType(key, value, where);
    }
    Map<String, String> map = new LinkedHashMap<>();
    boolean ok = true;
    for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
      if (entry.getValue() == null) {
        continue;
      }
      String text = scalarText(key.key() + "." + entry.getKey(), entry.getValue(), where, "(options are strings)");
      if (text == null) {
        ok = false;
      } else {
        map.put(String.valueOf(entry.getKey()), text);
      }
    }
    return ok ? map : null;
  }

  private Object floatVector(ConfigKey key, Object value, String where) {
    if (!(value instanceof List<?>) || ((List<?>) value).isEmpty()) {
      return wrongType(key, value, where);
    }
    List<?> list = (List<?>) value;
    float[] vector = new float[list.size()];
    for (int i = 0; i < vector.length; i++) {
      Float number = finiteFloat(list.get(i));
      if (number == null) {
        problems.add(key.key() + " in " + where + " must be a list of finite numbers, but entry " + i + " is "
            + describe(list.get(i)));
        return null;
      }
      vector[i] = number;
    }
    return vector;
  }

  private Object floatMatrix(ConfigKey key, Object value, String where) {
    if (!(value instanceof List<?>) || ((List<?>) value).isEmpty()) {
      return wrongType(key, value, where);
    }
    List<?> rows = (List<?>) value;
    float[][] matrix = new float[rows.size()][];
    for (int r = 0; r < matrix.length; r++) {
      if (!(rows.get(r) instanceof List<?>) || ((List<?>) rows.get(r)).isEmpty()) {
        problems.add(key.key() + " in " + where + " must be " + expectation(key) + ", but row " + r + " is "
            + describe(rows.get(r)));
        return null;
      }
      List<?> row = (List<?>) rows.get(r);
      matrix[r] = new float[row.size()];
      for (int c = 0; c < matrix[r].length; c++) {
        Float number = finiteFloat(row.get(c));
        if (number == null) {
          problems.add(key.key() + " in " + where + " must hold finite numbers, but row " + r + ", column " + c
              + " is " + describe(row.get(c)));
          return null;
        }
        matrix[r][c] = number;
      }
    }
    for (int r = 1; r < matrix.length; r++) {
      if (matrix[r].length != matrix[0].length) {
        problems.add(key.key() + " in " + where + " is ragged: row " + r + " has " + matrix[r].length
            + " values but row 0 has " + matrix[0].length + "; every row needs one value per input feature");
        return null;
      }
    }
    return matrix;
  }

  private static Float finiteFloat(Object value) {
    if (!(value instanceof Number)) {
      return null;
    }
    float number = ((Number) value).floatValue();
    return Float.isFinite(number) ? number : null;
  }

  /** A value as a message shows it: text quoted, lists and maps in YAML flow style, long values shortened. */
  static String describe(Object value) {
    String text = flow(value, true);
    return text.length() > 80 ? text.substring(0, 77) + "..." : text;
  }

  private static String flow(Object value, boolean quote) {
    if (value instanceof String) {
      return quote ? "'" + value + "'" : (String) value;
    }
    if (value instanceof List<?>) {
      return ((List<?>) value).stream().map(v -> flow(v, false)).collect(Collectors.joining(", ", "[", "]"));
    }
    if (value instanceof Map<?, ?>) {
      return ((Map<?, ?>) value).entrySet().stream()
          .map(e -> e.getKey() + ": " + flow(e.getValue(), false)).collect(Collectors.joining(", ", "{", "}"));
    }
    if (value instanceof float[]) {
      return Arrays.toString((float[]) value);
    }
    return String.valueOf(value);
  }
}
