package dev.sparklinear.job.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The config file and its {@code --set} overrides as one YAML tree, before any type is checked. Dotted keys are
 * expanded into nested maps, so {@code module: {in-features: 4}}, {@code module.in-features: 4} and mixed forms are
 * one tree; a key given twice in the file is a problem. Each override, its value read as YAML, replaces what is at
 * its dotted path. Remembers where each override put its value, for messages.
 */
final class ConfigTree {
  static final String OVERRIDE_FLAG = "--set";
  static final YAMLMapper YAML = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  final String source;
  final ObjectNode root;
  final List<String> problems = new ArrayList<>();
  /** The override behind each dotted path an override set. */
  private final Map<String, String> origins = new LinkedHashMap<>();

  private ConfigTree(String source, ObjectNode root) {
    this.source = source;
    this.root = root;
  }

  /**
   * Reads {@code yaml} and applies {@code overrides}.
   *
   * @throws ConfigException when the text is not a YAML map of keys, since nothing more can be said about it then
   */
  static ConfigTree read(String yaml, String source, List<String> overrides) {
    JsonNode tree;
    try (JsonParser parser = YAML.createParser(yaml)) {
      // A file of comments only has no token at all: an empty config rather than an error.
      tree = parser.nextToken() == null ? YAML.createObjectNode() : YAML.readTree(parser);
    } catch (JacksonException e) {
      throw new ConfigException(source, List.of("Cannot parse " + source + at(e.getLocation()) + ": "
          + e.getOriginalMessage() + (e.getOriginalMessage().startsWith("Duplicate field")
          ? "; each key may be given once" : "")));
    } catch (IOException e) {
      throw new ConfigException(source, List.of("Cannot parse " + source + ": " + e));
    }
    if (!(tree instanceof ObjectNode map)) {
      throw new ConfigException(source, List.of(source + " must hold a map of config keys (such as 'module:' and"
          + " 'input:'), got " + ConfigBinder.describe(tree)));
    }
    ConfigTree config = new ConfigTree(source, YAML.createObjectNode());
    config.merge(config.root, map, "");
    overrides.forEach(config::override);
    return config;
  }

  private static String at(JsonLocation location) {
    return location == null || location.getLineNr() < 1 ? ""
        : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** Where {@code key} was set, for messages: the override that set it or a section above it, else the file. */
  String origin(String key) {
    for (String path = key; !path.isEmpty(); path = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "") {
      if (origins.containsKey(path)) {
        return origins.get(path);
      }
    }
    return source;
  }

  /** Puts every key of {@code from} into {@code into}, its dotted keys expanded; {@code path} names {@code into}. */
  private void merge(ObjectNode into, ObjectNode from, String path) {
    from.fields().forEachRemaining(field -> {
      ObjectNode parent = into;
      String[] names = segments(field.getKey());
      String key = path;
      for (int i = 0; i < names.length; i++) {
        key = key.isEmpty() ? names[i] : key + "." + names[i];
        JsonNode existing = parent.get(names[i]);
        boolean last = i == names.length - 1;
        if (last && existing == null) {
          parent.set(names[i], field.getValue() instanceof ObjectNode map ? merge(map, key) : field.getValue());
        } else if (existing instanceof ObjectNode section && !last) {
          parent = section;
        } else if (existing instanceof ObjectNode section && field.getValue() instanceof ObjectNode map) {
          merge(section, map, key);
        } else if (existing == null) {
          parent = parent.putObject(names[i]);
        } else {
          problems.add("Config key '" + key + "' is set twice in " + source
              + " (once nested and once with dots); keep one");
          return;
        }
      }
    });
  }

  private ObjectNode merge(ObjectNode from, String path) {
    ObjectNode into = YAML.createObjectNode();
    merge(into, from, path);
    return into;
  }

  /** A dotted key's names; a key with an empty name ({@code module.}) is kept whole, to be reported as unknown. */
  private static String[] segments(String key) {
    String[] names = key.split("\\.", -1);
    return List.of(names).contains("") ? new String[] {key} : names;
  }

  /** Applies one {@code key=value} override: it replaces what the file, or an earlier override, set. */
  private void override(String override) {
    int equals = override == null ? -1 : override.indexOf('=');
    if (equals <= 0) {
      problems.add("Invalid override '" + override + "': expected " + OVERRIDE_FLAG + " key=value, e.g. "
          + OVERRIDE_FLAG + " block.max-rows=1024");
      return;
    }
    String key = override.substring(0, equals).strip();
    JsonNode value = overrideValue(key, override.substring(equals + 1));
    String[] names = segments(key);
    ObjectNode parent = root;
    for (int i = 0; i < names.length - 1; i++) {
      parent = parent.get(names[i]) instanceof ObjectNode section ? section : parent.putObject(names[i]);
    }
    parent.set(names[names.length - 1], value instanceof ObjectNode map ? merge(map, key) : value);
    origins.keySet().removeIf(path -> path.startsWith(key + "."));
    origins.put(key, OVERRIDE_FLAG + " " + override);
  }

  /**
   * Reads an override value as YAML, so that numbers, booleans and flow lists ({@code [a, b]}, {@code [[1, 2]]}) get
   * their types. Keys that take text keep the text as written, unless it is a quoted YAML string or null.
   */
  private static JsonNode overrideValue(String key, String text) {
    JsonNode parsed;
    try {
      parsed = text.isEmpty() ? TextNode.valueOf("") : YAML.readTree(text);
    } catch (JacksonException e) {
      return TextNode.valueOf(text);
    }
    boolean takesText = key.startsWith(ConfigKey.SPARK_PREFIX) || key.startsWith("input.options.")
        || ConfigKey.byKey(key).map(k -> k.component().getType() == String.class || k.component().getType().isEnum())
            .orElse(false);
    return parsed == null || parsed.isMissingNode() || takesText && !parsed.isTextual() && !parsed.isNull()
        ? TextNode.valueOf(text) : parsed;
  }
}
