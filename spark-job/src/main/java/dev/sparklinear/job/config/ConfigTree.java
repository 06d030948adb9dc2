package dev.sparklinear.job.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * The config file and its {@code --set} overrides as one YAML tree, before any type is checked. The file is read as
 * dotted paths to values, so {@code module: {in-features: 4}}, {@code module.in-features: 4} and mixed forms are one
 * key, and a key given twice is a problem; each override, its value read as YAML, replaces what is at and below its
 * path. Lists are values. Remembers where each key was set, for messages.
 */
final class ConfigTree {
  static final String OVERRIDE_FLAG = "--set";
  private static final YAMLMapper YAML = ConfigBinder.MAPPER;

  final String source;
  final ObjectNode root = YAML.createObjectNode();
  final List<String> problems = new ArrayList<>();
  /** Each dotted path to a value, in the order set, and where it was set: the file or an override. */
  private final Map<String, JsonNode> values = new LinkedHashMap<>();
  private final Map<String, String> origins = new LinkedHashMap<>();

  private ConfigTree(String source) {
    this.source = source;
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
    if (!(tree instanceof ObjectNode)) {
      throw new ConfigException(source, List.of(source + " must hold a map of config keys (such as 'module:' and"
          + " 'input:'), got " + ConfigBinder.describe(tree)));
    }
    ConfigTree config = new ConfigTree(source);
    leaves("", tree, (path, value) -> config.set(path, value, source));
    overrides.forEach(config::override);
    config.values.forEach(config::place);
    return config;
  }

  private static String at(JsonLocation location) {
    return location == null || location.getLineNr() < 1 ? ""
        : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** Calls {@code out} with the dotted path and value of every leaf under {@code node}: a value that is not a map. */
  static void leaves(String path, JsonNode node, BiConsumer<String, JsonNode> out) {
    if (node instanceof ObjectNode map && (!map.isEmpty() || path.isEmpty())) {
      map.properties().forEach(e -> leaves(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out));
    } else {
      out.accept(path, node);
    }
  }

  /** Where {@code key} was set, for messages: the override that set it or a key below it, else the file. */
  String origin(String key) {
    return origins.entrySet().stream().filter(e -> e.getKey().equals(key) || e.getKey().startsWith(key + "."))
        .map(Map.Entry::getValue).findFirst().orElse(source);
  }

  private void set(String path, JsonNode value, String origin) {
    if (values.containsKey(path) && origin.equals(source)) {
      problems.add("Config key '" + path + "' is set twice in " + source + " (once nested and once with dots); keep"
          + " one");
    }
    values.put(path, value);
    origins.put(path, origin);
  }

  /** Puts one value into the tree at its dotted path; a value where a section was given, or the reverse, is twice. */
  private void place(String path, JsonNode value) {
    ObjectNode parent = root;
    String[] names = segments(path);
    for (int i = 0; i < names.length - 1 && parent != null; i++) {
      JsonNode child = parent.get(names[i]);
      parent = child == null ? parent.putObject(names[i]) : child instanceof ObjectNode map ? map : null;
    }
    JsonNode existing = parent == null ? null : parent.get(names[names.length - 1]);
    boolean emptySection = existing instanceof ObjectNode && value instanceof ObjectNode && value.isEmpty();
    if (parent == null || existing != null && !emptySection) {
      problems.add("Config key '" + path + "' is set twice in " + origin(path) + " (once as a value and once as a"
          + " section); keep one");
    } else if (existing == null) {
      parent.set(names[names.length - 1], value);
    }
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
    Predicate<String> replaced = path -> path.equals(key) || path.startsWith(key + ".");
    values.keySet().removeIf(replaced);
    origins.keySet().removeIf(replaced);
    leaves(key, overrideValue(key, override.substring(equals + 1)),
        (path, value) -> set(path, value, OVERRIDE_FLAG + " " + override));
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
