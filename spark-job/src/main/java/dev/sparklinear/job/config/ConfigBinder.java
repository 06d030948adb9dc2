package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.module.SimpleDeserializers;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sparklinear.core.nn.StateDictLoadException;
import dev.sparklinear.job.config.JobConfig.LayerHooks;
import dev.sparklinear.job.config.JobConfig.ModuleConfig;
import dev.sparklinear.job.config.JobConfig.WeightsConfig;
import dev.sparklinear.spark.ConfigEnum;
import dev.sparklinear.spark.InvalidRowPolicy;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Binds a {@link ConfigTree} onto {@link JobConfig} with Jackson, reporting every problem at once: it first walks the
 * tree along the records (unknown keys, with the nearest known one), binds each key alone (a value of the wrong type
 * names the key, the value and what it must be), fills defaults, binds the whole tree, and checks the keys against
 * each other (required keys, weight shapes, keys that only make sense together).
 */
final class ConfigBinder {
  private static final String DOCS = "docs/config.md";
  private static final Pattern CLASS_NAME =
      Pattern.compile("([\\p{L}_$][\\p{L}\\p{N}_$]*\\.)*[\\p{L}_$][\\p{L}\\p{N}_$]*");
  static final YAMLMapper MAPPER = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      // Numbers and booleans must be written as such: "4" is not an integer, 1 is not true, " " is not unset.
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .withCoercionConfigDefaults(strict -> strict.setAcceptBlankAsEmpty(false))
      .addModule(ConfigEnums.module())
      .registerSubtypes(new NamedType(Hook.UserClass.class, "class"))
      .build();

  private final ConfigTree tree;
  private final List<String> problems;
  /** Keys given with a value that bound. */
  private final Set<String> given = new HashSet<>();
  /** Keys given with a value that did not bind: neither missing nor usable. */
  private final Set<String> invalid = new HashSet<>();

  private ConfigBinder(ConfigTree tree) {
    this.tree = tree;
    this.problems = tree.problems;
  }

  /** The bound config, or a {@link ConfigException} listing every problem. */
  static JobConfig bind(ConfigTree tree) {
    ConfigBinder binder = new ConfigBinder(tree);
    binder.walk(tree.root, JobConfig.class, "");
    // The fit section is optional as a whole: without it, none of its keys is filled in or required.
    boolean fit = tree.root.has("fit");
    for (ConfigKey key : ConfigKey.all()) {
      if (fit || !key.key().startsWith("fit.")) {
        binder.fill(key);
      }
    }
    tree.root.put("source", tree.source);
    JobConfig config;
    try {
      config = MAPPER.treeToValue(tree.root, JobConfig.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException(tree.source, List.of("Cannot bind " + tree.source + ": " + e.getMessage()));
    }
    binder.checkInputColumns(config);
    binder.checkLayers(config);
    binder.checkWeights(config);
    binder.checkHookWidths(config.hooks().pre(), "hooks.pre", config.module().inputWidth(), "in_features");
    binder.checkHookWidths(config.hooks().forward(), "hooks.forward", config.module().outputWidth(), "out_features");
    binder.checkInvalidRows(config);
    if (!binder.problems.isEmpty()) {
      throw new ConfigException(tree.source, binder.problems);
    }
    return config;
  }

  // ---- one key at a time ----

  /** Checks every key of {@code node}, a section bound onto {@code section}, removing what cannot be bound. */
  private void walk(ObjectNode node, Class<?> section, String prefix) {
    for (Map.Entry<String, JsonNode> field : new ArrayList<>(node.properties())) {
      String name = field.getKey();
      String key = prefix + name;
      Optional<RecordComponent> component = component(section, name).filter(c -> c.isAnnotationPresent(Key.class)
          || c.getType().isRecord() || c.getType() == Map.class || entryFamily(c) != null);
      Class<?> type = component.map(RecordComponent::getType).orElse(Void.class);
      // YAML null leaves a key unset, except where null is one of the values (invalid-rows: null).
      JsonNode value = field.getValue().isNull() && type == InvalidRowPolicy.class ? TextNode.valueOf("null")
          : field.getValue();
      if (value.isNull()) {
        node.remove(name);
        continue;
      }
      boolean keep = false;
      if (component.isEmpty()) {
        ConfigTree.leaves(key, value, (leaf, v) -> problems.add(unknownKey(leaf)));
      } else if (value instanceof ObjectNode map && type.isRecord()) {
        walk(map, type, key + ".");
        keep = true;
      } else if (value instanceof ObjectNode map && type == Map.class) {
        int before = problems.size();
        value = bindMap(key, map, ((ParameterizedType) component.get().getGenericType()).getActualTypeArguments()[1]);
        keep = true;
        (problems.size() == before ? given : invalid).add(key);
      } else if (entryFamily(component.get()) != null) {
        keep = bindEntries(key, value, entryFamily(component.get()));
        (keep ? given : invalid).add(key);
      } else if (!component.get().isAnnotationPresent(Key.class)) {
        problems.add("Config section '" + key + "' in " + tree.origin(key) + " must be a map of keys such as '"
            + ConfigKey.keys().stream().filter(k -> k.startsWith(key + ".")).findFirst().orElse("spark.master")
            + "', got " + describe(value));
      } else {
        keep = bindAlone(key, name, value, section);
        (keep ? given : invalid).add(key);
      }
      if (keep) {
        node.set(name, value);
      } else {
        node.remove(name);
      }
    }
  }

  /**
   * A map's entries in the form Jackson binds, each checked, leaving out those that do not bind: free-form settings
   * as strings ({@code input.options}); sections by layer index, each walked ({@code hooks.layers.2.forward});
   * other values by dotted key, each bound alone ({@code module.weights.tensors."0.weight"}).
   */
  private ObjectNode bindMap(String key, ObjectNode map, Type values) {
    ObjectNode bound = MAPPER.createObjectNode();
    if (values instanceof Class<?> section && section.isRecord() && section != InlineTensor.class) {
      map.properties().forEach(entry -> {
        String where = key + "." + entry.getKey();
        if (!entry.getKey().matches("\\d{1,9}")) {
          problems.add(where + " in " + tree.origin(where) + ": '" + entry.getKey() + "' is not a layer index; name"
              + " a layer by its position in module.layers, e.g. " + key + ".0");
        } else if (entry.getValue() instanceof ObjectNode hooks) {
          walk(hooks, section, where + ".");
          bound.set(entry.getKey(), hooks);
        } else {
          problems.add(where + " in " + tree.origin(where) + " must be a map with pre, forward or both, got "
              + describe(entry.getValue()));
        }
      });
      return bound;
    }
    ConfigTree.leaves("", map, (leaf, value) -> {
      String where = key + "." + leaf;
      if (values == String.class) {
        bound.set(leaf, scalar(where, value));
        return;
      }
      try {
        MAPPER.treeToValue(value, MAPPER.constructType(values));
        bound.set(leaf, value);
      } catch (IOException | IllegalArgumentException e) {
        problems.add(where + " in " + tree.origin(where) + " must be " + ConfigKey.expectation(values) + ", got "
            + describe(value));
      }
    });
    return bound;
  }

  /** For a list of typed entries such as hooks, the sealed interface of the entries; else null. */
  private static Class<?> entryFamily(RecordComponent component) {
    return component.getGenericType() instanceof ParameterizedType list
        && list.getActualTypeArguments()[0] instanceof Class<?> entry && entry.isAnnotationPresent(JsonSubTypes.class)
        ? entry : null;
  }

  private static Optional<RecordComponent> component(Class<?> record, String name) {
    return Arrays.stream(record.getRecordComponents()).filter(c -> ConfigKey.kebab(c.getName()).equals(name))
        .findFirst();
  }

  /** Binds one key on its own, so that one bad value does not hide the others. */
  private boolean bindAlone(String key, String name, JsonNode value, Class<?> section) {
    try {
      MAPPER.treeToValue(MAPPER.createObjectNode().set(name, value), section);
      return true;
    } catch (IOException | IllegalArgumentException e) {
      problems.add(key + " in " + tree.origin(key) + " must be " + ConfigKey.byKey(key).orElseThrow().expectation()
          + ", got " + describe(value));
      return false;
    }
  }

  /** A free-form setting's value as the string it is passed on as; a problem when it is a list or a map. */
  private JsonNode scalar(String key, JsonNode value) {
    if (value.isValueNode()) {
      return TextNode.valueOf(value.asText());
    }
    problems.add(key + " in " + tree.origin(key) + " must be a string, number or boolean, got " + describe(value));
    return TextNode.valueOf("");
  }

  private String unknownKey(String key) {
    List<String> candidates = new ArrayList<>(ConfigKey.keys());
    int dot = key.indexOf('.');
    if (dot > 0 && NearestKey.levenshtein(key.substring(0, dot + 1), ConfigKey.SPARK_PREFIX) <= 2) {
      candidates.add(ConfigKey.SPARK_PREFIX + key.substring(dot + 1));
    }
    String start = "Unknown config key '" + key + "' in " + tree.origin(key) + "; ";
    return NearestKey.among(key, candidates).map(nearest -> start + "did you mean '" + nearest + "'?")
        .orElse(start + "the known keys are listed in " + DOCS);
  }

  /** Fills in the default of a key not given, or reports the key missing when it is required. */
  private void fill(ConfigKey key) {
    ObjectNode parent = tree.root;
    List<RecordComponent> path = key.path();
    for (RecordComponent section : path.subList(0, path.size() - 1)) {
      parent = parent.get(ConfigKey.kebab(section.getName())) instanceof ObjectNode map ? map
          : parent.putObject(ConfigKey.kebab(section.getName()));
    }
    String name = ConfigKey.kebab(key.component().getName());
    if (parent.has(name) || invalid.contains(key.key())) {
      return;
    }
    if (key.required(this::given)) {
      problems.add("Missing required key '" + key.key() + "' in " + tree.source + "; add it, or pass "
          + ConfigTree.OVERRIDE_FLAG + " " + key.key() + "=<" + key.typeText() + ">");
    } else if (!key.doc().defaultYaml().isEmpty()) {
      try {
        parent.set(name, MAPPER.readTree(key.doc().defaultYaml()));
      } catch (IOException e) {
        throw new IllegalStateException("Default of " + key.key() + " is not YAML", e);
      }
    }
  }

  // ---- typed lists: hooks and layers ----

  /** Checks each entry of a hook or layer list, rewriting it into the form Jackson binds; false after any problem. */
  private boolean bindEntries(String key, JsonNode value, Class<?> family) {
    String origin = tree.origin(key);
    if (!(value instanceof ArrayNode entries)) {
      problems.add(key + " in " + origin + " must be " + (family == Hook.class ? Hook.EXPECT : Layer.EXPECT)
          + ", got " + describe(value));
      return false;
    }
    int before = problems.size();
    for (int i = 0; i < entries.size(); i++) {
      String where = key + "[" + i + "]";
      ObjectNode entry = entry(where + " in " + origin, entries.get(i), family == Hook.class);
      if (entry != null) {
        entries.set(i, family == Hook.class && entry.has("class") ? userClass(where, origin, entry)
            : builtIn(where, origin, entry, family));
      }
    }
    return problems.size() == before;
  }

  /** An entry as a map with a type (or, where {@code classes}, a class); null after a problem. */
  private ObjectNode entry(String where, JsonNode entry, boolean classes) {
    ObjectNode map = entry.isTextual() ? MAPPER.createObjectNode().put("type", entry.asText())
        : entry instanceof ObjectNode object ? object.deepCopy() : null;
    String kind = classes && map != null && map.has("class") ? "class" : "type";
    if (map == null) {
      problems.add(where + " must be a " + (classes ? "hook name such as relu, or a map with a type or a class"
          : "layer name such as relu, or a map with a type") + ", got " + describe(entry));
    } else if (classes && map.has("type") && map.has("class")) {
      problems.add(where + " has both a type and a class; give the type of a built-in hook, or the class of your own");
    } else if (!map.has(kind)) {
      problems.add(where + " needs a type (e.g. " + (classes ? "{type: clamp, max: 6}) or a class (e.g. {class:"
          + " com.example.MyHook}); got " : "{type: linear, in-features: 4, out-features: 3}); got ")
          + describe(entry));
    } else if (!map.get(kind).isTextual()) {
      problems.add(where + ": " + kind + " must be a name, got " + describe(map.get(kind)));
    } else {
      return map;
    }
    return null;
  }

  private JsonNode userClass(String where, String origin, ObjectNode entry) {
    String className = entry.remove("class").asText();
    if (!CLASS_NAME.matcher(className).matches()) {
      problems.add(where + " in " + origin + ": '" + className + "' is not a Java class name; give the fully"
          + " qualified name, e.g. com.example.MyHook");
    }
    ObjectNode params = MAPPER.createObjectNode();
    entry.properties().forEach(param -> {
      if (param.getValue().isValueNode()) {
        params.put(param.getKey(), param.getValue().asText());
      } else {
        problems.add(where + " (" + className + ") in " + origin + ": parameter '" + param.getKey()
            + "' must be a string, number or boolean (a hook class gets its parameters as strings), got "
            + describe(param.getValue()));
      }
    });
    return MAPPER.createObjectNode().put("type", "class").put("class-name", className).set("params", params);
  }

  private JsonNode builtIn(String where, String origin, ObjectNode entry, Class<?> family) {
    String given = entry.remove("type").asText();
    String name = given.toLowerCase(Locale.ROOT);
    Map<String, Class<?>> types = ConfigKey.subtypes(family);
    Class<?> type = types.get(name);
    String noun = family.getSimpleName().toLowerCase(Locale.ROOT);
    if (type == null) {
      String start = where + " in " + origin + ": unknown " + noun + " type '" + given + "'; ";
      problems.add(NearestKey.among(name, types.keySet()).map(nearest -> start + "did you mean '" + nearest
          + "'?").orElse(start + "the " + noun + " types are " + String.join(", ", types.keySet())
          + (family == Hook.class ? ", or give {class: ...} for a hook class of your own" : "")));
      return entry;
    }
    String label = where + " (" + name + ") in " + origin + ": ";
    if (type == Hook.Stats.class && where.contains("pre[")) {
      problems.add(label + "stats gathers statistics of the module's outputs; list it under "
          + where.substring(0, where.indexOf("pre[")) + "forward");
      return entry;
    }
    int before = problems.size();
    List<String> params = Arrays.stream(type.getRecordComponents()).map(c -> ConfigKey.kebab(c.getName())).toList();
    for (Map.Entry<String, JsonNode> param : entry.properties()) {
      Optional<RecordComponent> component = component(type, param.getKey());
      String known = params.isEmpty() ? name + " takes no parameters" : name + " takes " + String.join(", ", params);
      if (component.isEmpty()) {
        problems.add(label + "unknown parameter '" + param.getKey() + "'; " + NearestKey.among(param.getKey(), params)
            .map(nearest -> "did you mean '" + nearest + "'? ").orElse("") + known);
        continue;
      }
      try {
        MAPPER.treeToValue(param.getValue(), MAPPER.constructType(component.get().getGenericType()));
      } catch (IOException | IllegalArgumentException e) {
        problems.add(label + "parameter '" + param.getKey() + "' must be "
            + ConfigKey.expectation(component.get().getGenericType()) + ", got " + describe(param.getValue()));
      }
    }
    ObjectNode typed = MAPPER.createObjectNode().put("type", name).setAll(entry);
    if (problems.size() == before) {
      try {
        MAPPER.treeToValue(typed, family);
      } catch (IOException | IllegalArgumentException e) {
        String reasons = e.getCause() instanceof IllegalArgumentException cause ? cause.getMessage() : e.getMessage();
        reasons.lines().forEach(reason -> problems.add(label + reason));
      }
    }
    return typed;
  }

  // ---- keys against each other ----

  private boolean given(String key) {
    return given.contains(key) || invalid.contains(key);
  }

  private void checkInputColumns(JobConfig config) {
    if (given("input.column") == given("input.columns")) {
      problems.add((given("input.column") ? "Both input.column and input.columns are set in " + tree.source
          : "Missing required key 'input.column' or 'input.columns' in " + tree.source)
          + "; set exactly one: input.column for a vector column, input.columns for a list of scalar columns");
    }
    Integer inFeatures = config.module().inputWidth();
    List<String> columns = config.input().columns();
    if (columns != null && inFeatures != null && columns.size() != inFeatures) {
      problems.add("input.columns in " + tree.origin("input.columns") + " lists " + columns.size() + " columns,"
          + " expected in_features = " + inFeatures + "; list one column per input feature");
    }
  }

  private void checkWeights(JobConfig config) {
    Integer in = config.module().inFeatures();
    Integer out = config.module().outFeatures();
    boolean shapeKnown = in != null && out != null && (long) in * out <= Integer.MAX_VALUE;
    if (in != null && out != null && !shapeKnown) {
      problems.add("module.in-features * module.out-features = " + (long) in * out + " in " + tree.source
          + " is too large (must be < 2^31)");
    }
    WeightsConfig weights = config.module().weights();
    Boolean bias = config.module().bias();
    if (weights.format() == null || bias == null) {
      return;
    }
    String formatText = "module.weights.format is " + weights.format().configValue();
    boolean inline = weights.format() == WeightsFormat.INLINE;
    boolean npy = weights.format() == WeightsFormat.NPY;
    onlyWith("module.weights.weight", !inline, "module.weights.format: inline", formatText);
    onlyWith("module.weights.bias", !inline, "module.weights.format: inline", formatText);
    onlyWith("module.weights.path", inline, "module.weights.format: safetensors or npy", formatText);
    onlyWith("module.weights.bias-path", !npy, "module.weights.format: npy", formatText);
    if (weights.format() != WeightsFormat.SAFETENSORS && weights.prefix() != null && !weights.prefix().isEmpty()) {
      onlyWith("module.weights.prefix", true, "module.weights.format: safetensors", formatText);
    }
    onlyWith("module.weights.tensors", !inline, "module.weights.format: inline", formatText);
    if (!inline && !given("module.weights.path")) {
      problems.add("Missing key 'module.weights.path' in " + tree.source + ": " + formatText
          + ", so the weights file is needed; give its path");
    }
    if (given("module.layers")) {
      checkTreeWeights(config.module(), inline, npy);
      return;
    }
    if (given("module.weights.tensors")) {
      problems.add("module.weights.tensors in " + tree.origin("module.weights.tensors") + " is only used with"
          + " module.layers; for the single Linear give module.weights.weight and module.weights.bias");
    }
    if (npy && bias && !given("module.weights.bias-path")) {
      problems.add("Missing key 'module.weights.bias-path' in " + tree.source + ": module.bias is true and "
          + formatText + ", so the bias file is needed; give it, or set module.bias: false");
    }
    // With another format these keys are already reported as unused.
    String biasKey = inline ? "module.weights.bias" : npy ? "module.weights.bias-path" : null;
    if (!bias && biasKey != null && given(biasKey)) {
      problems.add(biasKey + " in " + tree.origin(biasKey) + " is set but module.bias is false; remove " + biasKey
          + ", or set module.bias: true");
    }
    if (inline) {
      checkInlineWeights(weights, bias, shapeKnown ? out : null, in);
    }
  }

  private void checkInlineWeights(WeightsConfig weights, boolean bias, Integer out, Integer in) {
    boolean weight = given("module.weights.weight");
    if (bias && weight && !given("module.weights.bias")) {
      problems.add("Missing key 'module.weights.bias' in " + tree.source + ": module.bias is true and"
          + " module.weights.weight is given, so the bias is needed too; give it, or set module.bias: false");
    }
    if (bias && !weight && given("module.weights.bias")) {
      problems.add("module.weights.bias in " + tree.origin("module.weights.bias") + " is given without"
          + " module.weights.weight; give both, or neither to initialise the layer from module.init-seed");
    }
    if (out == null) {
      return;
    }
    List<List<Float>> matrix = weights.weight();
    if (matrix != null && (matrix.size() != out || matrix.get(0).size() != in)) {
      problems.add("module.weights.weight has shape [" + matrix.size() + ", " + matrix.get(0).size() + "], expected"
          + " [out_features, in_features] = [" + out + ", " + in + "] (in " + tree.origin("module.weights.weight")
          + "); give one row of in_features values per output");
    }
    if (bias && weights.bias() != null && weights.bias().size() != out) {
      problems.add("module.weights.bias has shape [" + weights.bias().size() + "], expected [out_features] = [" + out
          + "] (in " + tree.origin("module.weights.bias") + ")");
    }
  }

  /** The weights of module.layers: a state dict, from a safetensors file or module.weights.tensors. */
  private void checkTreeWeights(ModuleConfig module, boolean inline, boolean npy) {
    for (String key : List.of("module.weights.weight", "module.weights.bias")) {
      if (given(key)) {
        problems.add(key + " in " + tree.origin(key) + " is a parameter of the single Linear; with module.layers give"
            + " module.weights.tensors, by state-dict key (\"0.weight\", \"0.bias\", ...)");
      }
    }
    if (npy) {
      problems.add("module.weights.format in " + tree.origin("module.weights.format") + " is npy, which holds the"
          + " weight and bias of a single Linear; with module.layers use safetensors (the module's state dict, keys"
          + " 0.weight, 0.bias, ...) or inline module.weights.tensors");
    }
    if (inline && module.layers() != null && given.contains("module.weights.tensors")) {
      try {
        Layer.sequential(module.layers(), 0L).loadStateDict(InlineTensor.stateDict(module.weights().tensors()), true);
      } catch (StateDictLoadException e) {
        problems.add("module.weights.tensors in " + tree.origin("module.weights.tensors") + " do not fit"
            + " module.layers: " + e.getMessage().replaceAll("\\s*\n\t", " ").strip() + " Give the tensors of each"
            + " layer under its index in module.layers: 0.weight, 0.bias, 1.weight, ...");
      }
    }
  }

  /**
   * module.layers against the rest: not with the single Linear's keys, not empty, widths that chain along the list,
   * and hooks.layers within it.
   */
  private void checkLayers(JobConfig config) {
    List<Layer> layers = config.module().layers();
    Map<Integer, LayerHooks> layerHooks = config.hooks().layers() == null ? Map.of() : config.hooks().layers();
    String origin = tree.origin("module.layers");
    if (layers == null) {
      if (!given("module.layers") && !layerHooks.isEmpty()) {
        problems.add("hooks.layers in " + tree.origin("hooks.layers") + " attaches hooks to layers of module.layers,"
            + " which is not given; the single Linear's hooks are hooks.pre and hooks.forward");
      }
      return;
    }
    List<String> single = Stream.of("module.in-features", "module.out-features", "module.bias").filter(this::given)
        .toList();
    if (!single.isEmpty()) {
      problems.add("Both module.layers and " + String.join(", ", single) + " are set in " + tree.source + "; describe"
          + " the module one way: module.layers for a list of layers, or module.in-features, module.out-features"
          + " and module.bias for a single Linear");
    }
    List<Integer> widths = config.module().widths();
    if (widths.get(0) == null) {
      problems.add("module.layers in " + origin + (layers.isEmpty() ? " is empty" : " has no layer of a known width")
          + "; the module needs at least one linear, layer-norm or batch-norm-1d layer to fix its widths");
      return;
    }
    for (int i = 0, from = -1; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      if (from >= 0 && layer.inWidth() != null && !layer.inWidth().equals(widths.get(i))) {
        // A layer with a width of its own declares it first: in-features, normalized-shape, num-features.
        problems.add("module.layers[" + i + "] (" + layer.typeName() + ") takes " + ConfigKey.kebab(
            layer.getClass().getRecordComponents()[0].getName()) + " " + layer.inWidth() + ", but module.layers["
            + from + "] (" + layers.get(from).typeName() + ") gives " + widths.get(i) + " (in " + origin
            + "); make the widths along the list agree");
      }
      from = layer.outWidth() != null ? i : from;
    }
    layerHooks.forEach((index, hooks) -> {
      String key = "hooks.layers." + index;
      if (index >= layers.size()) {
        problems.add(key + " in " + tree.origin(key) + ": module.layers has " + layers.size() + " layers (indexes 0"
            + " to " + (layers.size() - 1) + "); there is no layer " + index);
      } else {
        String layer = "module.layers[" + index + "]";
        checkHookWidths(hooks.pre(), key + ".pre", widths.get(index), "the input width of " + layer);
        checkHookWidths(hooks.forward(), key + ".forward", widths.get(index + 1), "the output width of " + layer);
      }
    });
  }

  private void onlyWith(String key, boolean unused, String needed, String actual) {
    if (unused && given(key)) {
      problems.add(key + " in " + tree.origin(key) + " is only used with " + needed + ", but " + actual + "; remove "
          + key + ", or change the format");
    }
  }

  /** Inline standardize vectors against the width they apply to. */
  private void checkHookWidths(List<Hook> hooks, String key, Integer width, String widthName) {
    for (int i = 0; hooks != null && width != null && i < hooks.size(); i++) {
      if (hooks.get(i) instanceof Hook.Standardize standardize) {
        checkWidth(key + "[" + i + "]", key, "mean", standardize.mean(), width, widthName);
        checkWidth(key + "[" + i + "]", key, "std", standardize.std(), width, widthName);
      }
    }
  }

  private void checkWidth(String where, String key, String name, List<Float> vector, int width, String widthName) {
    if (vector != null && vector.size() != width) {
      problems.add(where + " (standardize) in " + tree.origin(key) + ": " + name + " has " + vector.size()
          + " values, expected " + widthName + " = " + width + "; give one value per "
          + (key.endsWith("pre") ? "input feature" : "output"));
    }
  }

  private void checkInvalidRows(JobConfig config) {
    boolean quarantine = config.invalidRows() == InvalidRowPolicy.QUARANTINE;
    String path = config.output().quarantinePath();
    String origin = tree.origin("output.quarantine-path");
    if (quarantine && !given("output.quarantine-path")) {
      problems.add("Missing key 'output.quarantine-path' in " + tree.source + ": invalid-rows is quarantine, so"
          + " the invalid rows need a place to go; add it, or choose invalid-rows error, skip or null");
    } else if (!quarantine && path != null) {
      problems.add("output.quarantine-path in " + origin + " is only used with invalid-rows: quarantine; remove it,"
          + " or set invalid-rows: quarantine");
    } else if (path != null && path.equals(config.output().path())) {
      problems.add("output.quarantine-path in " + origin + " is the same as output.path; choose another folder for"
          + " the invalid rows");
    }
  }

  // ---- values in messages ----

  /** A value as a message shows it: text quoted, lists and maps in YAML flow style, long values shortened. */
  static String describe(JsonNode value) {
    String text = value.isTextual() ? "'" + value.asText() + "'" : flow(value);
    return text.length() > 80 ? text.substring(0, 77) + "..." : text;
  }

  private static String flow(JsonNode value) {
    if (value.isArray()) {
      return StreamSupport.stream(value.spliterator(), false).map(ConfigBinder::flow)
          .collect(Collectors.joining(", ", "[", "]"));
    }
    if (value.isObject()) {
      return value.properties().stream().map(e -> e.getKey() + ": " + flow(e.getValue()))
          .collect(Collectors.joining(", ", "{", "}"));
    }
    return value.asText();
  }

  /** Binds every {@link ConfigEnum} through its config spelling, case-insensitively. */
  private static final class ConfigEnums extends SimpleDeserializers {
    @Override
    public JsonDeserializer<?> findEnumDeserializer(Class<?> type, DeserializationConfig config,
        BeanDescription bean) {
      return !ConfigEnum.class.isAssignableFrom(type) ? null : new StdDeserializer<Object>(type) {
        @Override
        public Object deserialize(JsonParser parser, DeserializationContext context) throws IOException {
          return parser.hasToken(JsonToken.VALUE_STRING) ? parse(type, parser.getText())
              : context.handleUnexpectedToken(type, parser);
        }
      };
    }

    static SimpleModule module() {
      SimpleModule module = new SimpleModule();
      module.setDeserializers(new ConfigEnums());
      return module;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object parse(Class type, String text) {
      return ConfigEnum.parse(type, text, "value");
    }
  }
}
