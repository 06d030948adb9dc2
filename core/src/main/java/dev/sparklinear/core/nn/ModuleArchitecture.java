package dev.sparklinear.core.nn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.sparklinear.core.kernel.LinearKernels;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A module tree's architecture as JSON, and back: each module as its PyTorch class name and PyTorch constructor
 * arguments, so that the same tree can be built in PyTorch (and its state dict loaded into it) from the file alone.
 *
 * <pre>{@code
 * {
 *   "format_version": 1,
 *   "type": "Sequential",
 *   "training": false,
 *   "children": [
 *     {"type": "Linear", "in_features": 48, "out_features": 32, "bias": true},
 *     {"type": "LayerNorm", "normalized_shape": 32, "eps": 1e-05, "elementwise_affine": true, "bias": true},
 *     {"type": "GELU", "approximate": "none"},
 *     {"type": "Linear", "in_features": 32, "out_features": 8, "bias": true}
 *   ]
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Every constructor argument is written, defaults included, under PyTorch's name ({@code in_features},
 *       {@code elementwise_affine}, {@code track_running_stats}); numbers as Python writes them ({@code 1e-05}).
 *       Reading accepts an argument left out as PyTorch's default, and refuses one PyTorch's class does not take.
 *   <li>A {@code Sequential}'s children are a list in order. A child named other than by its index (a
 *       {@code Sequential(OrderedDict(...))}) carries its {@code "name"}.
 *   <li>A Linear computed with {@link LinearKernels.Precision#COMPENSATED} carries {@code "precision": "compensated"}
 *       (spark-linear's own argument; PyTorch has none, and a float32 Linear is written without it).
 *   <li>The root carries {@code "training"}, the mode of {@link Module#isTraining()}; a descendant carries it only
 *       where its mode differs from its parent's. Rebuilding sets the same modes.
 *   <li>Parameters, buffers and hooks are not part of the architecture: save the state dict beside it (for example
 *       with {@link dev.sparklinear.core.weights.SafetensorsWriter}) and load it into the rebuilt tree; register hooks
 *       again. A rebuilt module starts from PyTorch's initialisation, as {@code nn.Linear(48, 32)} does.
 * </ul>
 *
 * <p>The classes written are exactly {@link #SUPPORTED_TYPES}'s (not subclasses of them, whose {@code forward} could
 * do anything): a tree holding any other module, or the same module instance twice, cannot be described and is
 * refused with a message naming the module.
 */
public final class ModuleArchitecture {
  /** The version of the JSON layout, written at the root; a reader refuses versions it does not know. */
  public static final int FORMAT_VERSION = 1;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static final String TYPE = "type";
  private static final String NAME = "name";
  private static final String TRAINING = "training";
  private static final String CHILDREN = "children";
  /** A Linear's {@link Linear#precision()}: spark-linear's own argument, written only when not {@code float32}. */
  private static final String PRECISION = "precision";
  private static final String VERSION = "format_version";

  /** One module class that can be described: its PyTorch name, its arguments, and how to write and build it. */
  private record Kind(String type, Class<? extends Module> javaClass, List<String> arguments,
      Function<Module, Map<String, Object>> describe, Function<Arguments, Module> build) {}

  private static final Map<String, Kind> KINDS = kinds(
      new Kind("Sequential", Sequential.class, List.of(), m -> Map.of(), a -> new Sequential()),
      new Kind("Linear", Linear.class, List.of("in_features", "out_features", "bias", PRECISION),
          m -> {
            Linear fc = (Linear) m;
            Map<String, Object> arguments =
                ordered("in_features", fc.inFeatures(), "out_features", fc.outFeatures(), "bias", fc.hasBias());
            if (fc.precision() != LinearKernels.Precision.FLOAT32) {
              arguments.put(PRECISION, fc.precision().name().toLowerCase(Locale.ROOT));
            }
            return arguments;
          },
          a -> new Linear(a.requiredInt("in_features"), a.requiredInt("out_features"), a.bool("bias", true))
              .setPrecision(a.precision())),
      new Kind("ReLU", ReLU.class, List.of("inplace"),
          m -> ordered("inplace", ((ReLU) m).inplace()), a -> new ReLU(a.bool("inplace", false))),
      new Kind("GELU", GELU.class, List.of("approximate"),
          m -> ordered("approximate", ((GELU) m).approximate()), a -> new GELU(a.string("approximate", "none"))),
      new Kind("SiLU", SiLU.class, List.of("inplace"),
          m -> ordered("inplace", ((SiLU) m).inplace()), a -> new SiLU(a.bool("inplace", false))),
      new Kind("Sigmoid", Sigmoid.class, List.of(), m -> Map.of(), a -> new Sigmoid()),
      new Kind("Tanh", Tanh.class, List.of(), m -> Map.of(), a -> new Tanh()),
      new Kind("Identity", Identity.class, List.of(), m -> Map.of(), a -> new Identity()),
      new Kind("Softmax", Softmax.class, List.of("dim"),
          m -> {
            Softmax softmax = (Softmax) m;
            return ordered("dim", softmax.dim().isPresent() ? softmax.dim().getAsInt() : null);
          },
          a -> {
            Integer dim = a.optionalInt("dim");
            return dim == null ? new Softmax() : new Softmax(dim);
          }),
      new Kind("LayerNorm", LayerNorm.class, List.of("normalized_shape", "eps", "elementwise_affine", "bias"),
          m -> {
            LayerNorm norm = (LayerNorm) m;
            return ordered("normalized_shape", norm.normalizedShape(), "eps", norm.eps(), "elementwise_affine",
                norm.elementwiseAffine(), "bias", !norm.elementwiseAffine() || norm.bias().isPresent());
          },
          a -> new LayerNorm(a.normalizedShape(), a.number("eps", 1e-5), a.bool("elementwise_affine", true),
              a.bool("bias", true))),
      new Kind("BatchNorm1d", BatchNorm1d.class,
          List.of("num_features", "eps", "momentum", "affine", "track_running_stats"),
          m -> {
            BatchNorm1d norm = (BatchNorm1d) m;
            return ordered("num_features", norm.numFeatures(), "eps", norm.eps(), "momentum",
                norm.momentum().isPresent() ? norm.momentum().getAsDouble() : null, "affine", norm.affine(),
                "track_running_stats", norm.trackRunningStats());
          },
          a -> new BatchNorm1d(a.requiredInt("num_features"), a.number("eps", 1e-5), a.optionalNumber("momentum", 0.1),
              a.bool("affine", true), a.bool("track_running_stats", true))),
      new Kind("Dropout", Dropout.class, List.of("p", "inplace"),
          m -> {
            Dropout dropout = (Dropout) m;
            return ordered("p", dropout.p(), "inplace", dropout.inplace());
          },
          a -> new Dropout(a.number("p", 0.5), a.bool("inplace", false))));

  /** The PyTorch class names that can be written and read, in a stable order. */
  public static final List<String> SUPPORTED_TYPES = List.copyOf(KINDS.keySet());

  private ModuleArchitecture() {}

  private static Map<String, Kind> kinds(Kind... kinds) {
    Map<String, Kind> out = new LinkedHashMap<>();
    for (Kind kind : kinds) {
      out.put(kind.type, kind);
    }
    return Collections.unmodifiableMap(out);
  }

  /** Name-value pairs in order; a null value is written as JSON null (PyTorch's {@code None}). */
  private static Map<String, Object> ordered(Object... nameThenValue) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < nameThenValue.length; i += 2) {
      out.put((String) nameThenValue[i], nameThenValue[i + 1]);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------------ writing

  /**
   * The architecture of {@code module}'s tree as indented JSON.
   *
   * @throws IllegalArgumentException naming the module, when the tree holds a module of another class than
   *     {@link #SUPPORTED_TYPES}'s or holds one module instance twice
   */
  public static String toJson(Module module) {
    Objects.requireNonNull(module, "module");
    ObjectNode root = NODES.objectNode();
    root.put(VERSION, FORMAT_VERSION);
    describe(module, "", null, root, Collections.newSetFromMap(new IdentityHashMap<>()));
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
        .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
        .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
        .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
    try {
      return JSON.writer(printer).writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write an architecture tree as JSON", e); // A tree of nodes always writes.
    }
  }

  private static void describe(Module module, String path, Boolean parentTraining, ObjectNode out, Set<Module> seen) {
    Kind kind = kindOf(module, path);
    if (!seen.add(module)) {
      throw new IllegalArgumentException("Cannot save the architecture of " + where(path) + " (" + module.getName()
          + "): the same module instance appears earlier in the tree. An architecture describes a tree, so every"
          + " module must be a separate instance; build the shared part twice, or save the module without sharing.");
    }
    out.put(TYPE, kind.type);
    if (parentTraining == null || parentTraining != module.isTraining()) {
      out.put(TRAINING, module.isTraining());
    }
    kind.describe.apply(module).forEach((name, value) -> putValue(out, name, value));
    if (kind.javaClass == Sequential.class) {
      ArrayNode children = out.putArray(CHILDREN);
      int index = 0;
      for (Map.Entry<String, Module> child : module.namedChildren().entrySet()) {
        ObjectNode node = children.addObject();
        String childPath = path.isEmpty() ? child.getKey() : path + "." + child.getKey();
        if (!child.getKey().equals(String.valueOf(index))) {
          node.put(NAME, child.getKey());
        }
        describe(child.getValue(), childPath, module.isTraining(), node, seen);
        index++;
      }
    }
  }

  private static Kind kindOf(Module module, String path) {
    for (Kind kind : KINDS.values()) {
      if (module.getClass() == kind.javaClass) {
        return kind;
      }
    }
    throw new IllegalArgumentException("Cannot save the architecture of " + where(path) + ": its class "
        + module.getClass().getName() + " is not one of the modules that can be saved (" + String.join(", ",
        SUPPORTED_TYPES) + ", from " + Module.class.getPackageName() + ", and not subclasses of them, whose forward"
        + " could compute anything). Build the tree from these modules to save it.");
  }

  private static void putValue(ObjectNode out, String name, Object value) {
    if (value == null) {
      out.putNull(name);
    } else if (value instanceof Integer i) {
      out.put(name, i);
    } else if (value instanceof Boolean b) {
      out.put(name, b);
    } else if (value instanceof Double d) {
      out.putRawValue(name, new RawValue(pythonJsonNumber(d)));
    } else {
      out.put(name, (String) value);
    }
  }

  /** A float as Python's {@code json.dumps} writes it: its repr ({@code 1e-05}, {@code 0.1}), or NaN, Infinity. */
  private static String pythonJsonNumber(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "Infinity" : "-Infinity";
    }
    return TorchRepr.number(value);
  }

  private static String where(String path) {
    return path.isEmpty() ? "the root module" : "module '" + path + "'";
  }

  // ------------------------------------------------------------------------------------------------------ reading

  /**
   * Builds the tree that {@code json} describes, each module freshly initialised, in the training modes the JSON
   * gives. Load the state dict into the result to get the saved values back.
   *
   * @throws IllegalArgumentException saying where and what, for JSON that is not an architecture: not JSON, an
   *     unknown format version or type, a missing or unknown argument, a value of the wrong kind or refused by the
   *     module's constructor, a child name used twice
   */
  public static Module fromJson(String json) {
    Objects.requireNonNull(json, "json");
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Invalid architecture: not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("Invalid architecture: expected a JSON object describing the root module,"
          + " got " + (root == null ? "nothing" : root.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
    }
    JsonNode version = root.get(VERSION);
    if (version == null || !version.isIntegralNumber() || version.intValue() != FORMAT_VERSION) {
      throw new IllegalArgumentException("Invalid architecture: " + VERSION + " is " + (version == null ? "missing"
          : version.toString()) + "; this version reads " + VERSION + " " + FORMAT_VERSION
          + " (written by ModuleArchitecture.toJson)");
    }
    Map<Module, Boolean> modes = new IdentityHashMap<>();
    Module module = build((ObjectNode) root, "", true, null, modes);
    // Parents before children (namedModules' order): train(mode) sets a whole subtree, and a descendant whose own
    // mode differs is visited later and sets its own subtree again.
    for (Module each : module.namedModules().values()) {
      boolean mode = modes.get(each);
      if (each.isTraining() != mode || each == module) {
        each.train(mode);
      }
    }
    return module;
  }

  private static Module build(ObjectNode node, String path, boolean isRoot, Boolean parentTraining,
      Map<Module, Boolean> modes) {
    JsonNode typeNode = node.get(TYPE);
    if (typeNode == null || !typeNode.isTextual()) {
      throw invalid(path, null, typeNode == null ? "has no \"type\"" : "has \"type\" " + typeNode + ", not a string");
    }
    Kind kind = KINDS.get(typeNode.textValue());
    if (kind == null) {
      throw invalid(path, null, "has the unknown type '" + typeNode.textValue() + "'; the types that can be loaded"
          + " are " + String.join(", ", SUPPORTED_TYPES));
    }
    Set<String> allowed = new LinkedHashSet<>(List.of(TYPE, TRAINING));
    if (isRoot) {
      allowed.add(VERSION);
    } else {
      allowed.add(NAME);
    }
    if (kind.javaClass == Sequential.class) {
      allowed.add(CHILDREN);
    }
    allowed.addAll(kind.arguments);
    for (String field : (Iterable<String>) node::fieldNames) {
      if (!allowed.contains(field)) {
        String takes = kind.arguments.isEmpty() ? "takes no arguments" : "takes " + String.join(", ", kind.arguments);
        throw invalid(path, kind.type, "has the unknown " + (field.equals(CHILDREN) ? "field" : "argument") + " '"
            + field + "'; " + kind.type + " " + takes + (field.equals(CHILDREN) ? " and has no children" : ""));
      }
    }
    Module module;
    try {
      module = kind.build.apply(new Arguments(node, path, kind.type));
    } catch (ArgumentException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw invalid(path, kind.type, "cannot be built: " + e.getMessage());
    }
    JsonNode trainingNode = node.get(TRAINING);
    if (trainingNode != null && !trainingNode.isBoolean()) {
      throw invalid(path, kind.type, "has \"training\" " + trainingNode + ", not true or false");
    }
    boolean training = trainingNode != null ? trainingNode.booleanValue()
        : parentTraining != null ? parentTraining : true;
    modes.put(module, training);
    if (kind.javaClass == Sequential.class) {
      addChildren((Sequential) module, node.get(CHILDREN), path, kind.type, training, modes);
    }
    return module;
  }

  private static void addChildren(Sequential parent, JsonNode children, String path, String type, boolean training,
      Map<Module, Boolean> modes) {
    if (children == null) {
      return;
    }
    if (!children.isArray()) {
      throw invalid(path, type, "has \"children\" " + shorten(children.toString()) + ", not a list of modules");
    }
    Set<String> names = new LinkedHashSet<>();
    for (int index = 0; index < children.size(); index++) {
      JsonNode child = children.get(index);
      JsonNode nameNode = child.get(NAME);
      String name = nameNode == null ? String.valueOf(index) : nameNode.isTextual() ? nameNode.textValue() : null;
      String childPath = (path.isEmpty() ? "" : path + ".") + (name == null ? String.valueOf(index) : name);
      if (!child.isObject()) {
        throw invalid(childPath, null, "is " + shorten(child.toString()) + ", not an object describing a module");
      }
      if (name == null || name.isEmpty() || name.contains(".")) {
        throw invalid(childPath, null, "has the name " + nameNode + "; a child's name is a non-empty string"
            + " without dots");
      }
      if (!names.add(name)) {
        throw invalid(childPath, null, "uses the name '" + name + "' of an earlier child; names must be unique");
      }
      parent.registerModule(name, build((ObjectNode) child, childPath, false, training, modes));
    }
  }

  private static IllegalArgumentException invalid(String path, String type, String problem) {
    return new ArgumentException("Invalid architecture: " + where(path) + (type == null ? "" : " (" + type + ")")
        + " " + problem);
  }

  private static String shorten(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }

  /** An error already worded with its place in the tree, passed through unchanged by the enclosing builds. */
  private static final class ArgumentException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ArgumentException(String message) {
      super(message);
    }
  }

  /** One module's arguments, read with PyTorch's defaults and checked for their JSON kind. */
  private static final class Arguments {
    private final ObjectNode node;
    private final String path;
    private final String type;

    Arguments(ObjectNode node, String path, String type) {
      this.node = node;
      this.path = path;
      this.type = type;
    }

    private IllegalArgumentException wrong(String name, JsonNode value, String expected) {
      return invalid(path, type, "has " + name + "=" + shorten(value.toString()) + ", not " + expected);
    }

    int requiredInt(String name) {
      JsonNode value = node.get(name);
      if (value == null) {
        throw invalid(path, type, "is missing the argument '" + name + "'");
      }
      return toInt(name, value);
    }

    private int toInt(String name, JsonNode value) {
      if (!value.isIntegralNumber() || !value.canConvertToInt()) {
        throw wrong(name, value, "an integer");
      }
      return value.intValue();
    }

    Integer optionalInt(String name) {
      JsonNode value = node.get(name);
      return value == null || value.isNull() ? null : toInt(name, value);
    }

    boolean bool(String name, boolean byDefault) {
      JsonNode value = node.get(name);
      if (value == null) {
        return byDefault;
      }
      if (!value.isBoolean()) {
        throw wrong(name, value, "true or false");
      }
      return value.booleanValue();
    }

    double number(String name, double byDefault) {
      JsonNode value = node.get(name);
      if (value == null) {
        return byDefault;
      }
      if (!value.isNumber()) {
        throw wrong(name, value, "a number");
      }
      return value.doubleValue();
    }

    /** A number or null (PyTorch's {@code None}); {@code byDefault} when absent. */
    Double optionalNumber(String name, double byDefault) {
      JsonNode value = node.get(name);
      return value == null ? Double.valueOf(byDefault) : value.isNull() ? null : Double.valueOf(number(name, 0));
    }

    /** {@link #PRECISION}: {@code float32} when absent, or {@code compensated}. */
    LinearKernels.Precision precision() {
      String value = string(PRECISION, "float32");
      for (LinearKernels.Precision precision : LinearKernels.Precision.values()) {
        if (precision.name().toLowerCase(Locale.ROOT).equals(value)) {
          return precision;
        }
      }
      throw wrong(PRECISION, node.get(PRECISION), "\"float32\" or \"compensated\"");
    }

    String string(String name, String byDefault) {
      JsonNode value = node.get(name);
      if (value == null) {
        return byDefault;
      }
      if (!value.isTextual()) {
        throw wrong(name, value, "a string");
      }
      return value.textValue();
    }

    /** {@code normalized_shape}: an integer, or a list of one integer as PyTorch also takes. */
    int normalizedShape() {
      JsonNode value = node.get("normalized_shape");
      if (value == null) {
        throw invalid(path, type, "is missing the argument 'normalized_shape'");
      }
      if (value.isArray()) {
        if (value.size() != 1) {
          throw invalid(path, type, "has normalized_shape=" + shorten(value.toString()) + ": only a single (last)"
              + " dimension is supported, as an integer or a list of one integer");
        }
        return toInt("normalized_shape", value.get(0));
      }
      return toInt("normalized_shape", value);
    }
  }
}
