package dev.sparklinear.job.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The config as a flat map from dotted key to the value YAML gave (String, Number, Boolean, List or Map), before any
 * type is checked, remembering where each key was set. Nested and dotted spellings flatten to the same key, so
 * {@code module: {in-features: 4}}, {@code module.in-features: 4} and mixed forms are one key.
 *
 * <p>Flattening stops at documented keys, so a map given for a documented key (such as {@code input.options}) stays
 * one value. Lists stay lists. A null value leaves the key unset.
 */
final class RawConfig {
  private static final YAMLMapper YAML = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  static final String OVERRIDE_FLAG = "--set";

  private final String source;
  private final List<String> problems;
  private final Map<String, Object> values = new LinkedHashMap<>();
  /** Where each key was last set: the config file name, or the {@code --set} override that set it. */
  private final Map<String, String> origins = new LinkedHashMap<>();

  private RawConfig(String source, List<String> problems) {
    this.source = source;
    this.problems = problems;
  }

  /**
   * Reads {@code yaml}, adding any problem to {@code problems}. Returns null when the text is not a YAML map of keys,
   * since nothing useful can be said about its keys then.
   */
  static RawConfig fromYaml(String yaml, String source, List<String> problems) {
    RawConfig config = new RawConfig(source, problems);
    Object tree;
    try (JsonParser parser = YAML.createParser(yaml)) {
      // A file of comments only has no token at all: an empty config rather than an error.
      tree = parser.nextToken() == null ? null : YAML.readValue(parser, Object.class);
    } catch (JacksonException e) {
      problems.add("Cannot parse " + source + at(e.getLocation()) + ": " + e.getOriginalMessage()
          + (e.getOriginalMessage().startsWith("Duplicate field") ? "; each key may be given once" : ""));
      return null;
    } catch (IOException e) {
      problems.add("Cannot parse " + source + ": " + e);
      return null;
    }
    if (tree == null) {
      return config;
    }
    if (!(tree instanceof Map<?, ?>)) {
      problems.add(source + " must hold a map of config keys (such as 'module:' and 'input:'), got "
          + ConfigBinder.describe(tree));
      return null;
    }
    config.flatten("", tree, source, false);
    return config;
  }

  private static String at(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** Applies {@code key=value} overrides in order: each replaces what the file (or an earlier override) set. */
  void applyOverrides(List<String> overrides) {
    for (String override : overrides) {
      int equals = override == null ? -1 : override.indexOf('=');
      if (equals <= 0) {
        problems.add("Invalid override '" + override + "': expected " + OVERRIDE_FLAG
            + " key=value, e.g. " + OVERRIDE_FLAG + " block.max-rows=1024");
        continue;
      }
      String key = override.substring(0, equals).strip();
      String text = override.substring(equals + 1);
      flatten(key, parseOverrideValue(key, text), OVERRIDE_FLAG + " " + override, true);
    }
  }

  /**
   * Reads an override value as YAML, so that numbers, booleans and flow lists ({@code [a, b]}, {@code [[1, 2]]}) get
   * their types. Keys that take text keep the text as written, unless it is a quoted YAML string.
   */
  private static Object parseOverrideValue(String key, String text) {
    if (text.isEmpty()) {
      return "";
    }
    Object parsed;
    try {
      parsed = YAML.readValue(text, Object.class);
    } catch (JacksonException e) {
      return text;
    }
    if (takesText(key) && parsed != null && !(parsed instanceof String)) {
      return text;
    }
    return parsed;
  }

  /** Keys one of whose values is spelled {@code null}. */
  private static boolean nullIsAValue(String key) {
    return ConfigKey.byKey(key).map(k -> k.allowedValues().contains("null")).orElse(false);
  }

  private static boolean takesText(String key) {
    if (key.startsWith(ConfigKey.SPARK_PREFIX) || key.startsWith(ConfigKey.INPUT_OPTIONS.key() + ".")) {
      return true;
    }
    return ConfigKey.byKey(key).map(k -> k.type() == ConfigKey.Type.STRING
        || k.type() == ConfigKey.Type.NON_EMPTY_STRING || k.type() == ConfigKey.Type.ENUM).orElse(false);
  }

  private void flatten(String path, Object value, String origin, boolean replace) {
    if (value instanceof Map<?, ?> && (path.isEmpty() || ConfigKey.byKey(path).isEmpty())) {
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        String name = String.valueOf(entry.getKey());
        flatten(path.isEmpty() ? name : path + "." + name, entry.getValue(), origin, replace);
      }
      return;
    }
    if (value == null && nullIsAValue(path)) {
      // invalid-rows: null names a policy; YAML would read it as "no value" and leave the key unset.
      value = "null";
    }
    if (replace) {
      values.remove(path);
      origins.remove(path);
      if (value != null) {
        values.put(path, value);
        origins.put(path, origin);
      }
      return;
    }
    if (values.containsKey(path)) {
      problems.add("Config key '" + path + "' is set twice in " + source
          + " (once nested and once with dots); keep one");
      return;
    }
    if (value != null) {
      values.put(path, value);
      origins.put(path, origin);
    }
  }

  String source() {
    return source;
  }

  /** Every key set, in the order first set, with its raw value. */
  Map<String, Object> values() {
    return values;
  }

  /** Where {@code key} was set, for messages: the file name, or the override. */
  String origin(String key) {
    return origins.getOrDefault(key, source);
  }
}
