package dev.sparklinear.job.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the value of {@code hooks.pre} or {@code hooks.forward} into {@link HookSpec}s, adding every problem found to
 * the config's list: an entry of the wrong shape, an unknown hook type or parameter (with the nearest known name), a
 * parameter of the wrong type, missing or conflicting parameters. Vector lengths are checked later, once the layer's
 * widths are known ({@link #checkWidths}).
 */
final class HookListBinder {
  private static final String TYPE = "type";
  private static final String CLASS = "class";
  private static final Pattern CLASS_NAME =
      Pattern.compile("([\\p{L}_$][\\p{L}\\p{N}_$]*\\.)*[\\p{L}_$][\\p{L}\\p{N}_$]*");

  private final ConfigKey key;
  private final String origin;
  private final List<String> problems;

  private HookListBinder(ConfigKey key, String origin, List<String> problems) {
    this.key = key;
    this.origin = origin;
    this.problems = problems;
  }

  /** The hooks of {@code value}, or null after adding problems to {@code problems}. */
  static List<HookSpec> bind(ConfigKey key, Object value, String origin, List<String> problems) {
    return new HookListBinder(key, origin, problems).bind(value);
  }

  private List<HookSpec> bind(Object value) {
    if (!(value instanceof List<?> list)) {
      problems.add(key.key() + " in " + origin + " must be a list of hooks, e.g. [relu, {type: clamp, min: 0}], got "
          + ConfigBinder.describe(value));
      return null;
    }
    int before = problems.size();
    List<HookSpec> specs = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      HookSpec spec = entry(key.key() + "[" + i + "]", list.get(i));
      if (spec != null) {
        specs.add(spec);
      }
    }
    return problems.size() == before ? List.copyOf(specs) : null;
  }

  private HookSpec entry(String where, Object entry) {
    if (entry instanceof String name) {
      return builtIn(where, name, Map.of());
    }
    if (!(entry instanceof Map<?, ?> map)) {
      problems.add(where + " in " + origin + " must be a hook name such as relu, or a map with a type or a class,"
          + " got " + ConfigBinder.describe(entry));
      return null;
    }
    Map<String, Object> params = new LinkedHashMap<>();
    map.forEach((k, v) -> params.put(String.valueOf(k), v));
    boolean hasType = params.containsKey(TYPE);
    boolean hasClass = params.containsKey(CLASS);
    if (hasType && hasClass) {
      problems.add(where + " in " + origin + " has both a type and a class; give the type of a built-in hook, or the"
          + " class of your own");
      return null;
    }
    if (!hasType && !hasClass) {
      problems.add(where + " in " + origin + " needs a type (e.g. {type: clamp, max: 6}) or a class (e.g. {class:"
          + " com.example.MyHook}); got " + ConfigBinder.describe(entry));
      return null;
    }
    Object name = params.remove(hasType ? TYPE : CLASS);
    if (!(name instanceof String text) || text.isBlank()) {
      problems.add(where + " in " + origin + ": " + (hasType ? TYPE : CLASS) + " must be a name, got "
          + ConfigBinder.describe(name));
      return null;
    }
    return hasType ? builtIn(where, text, params) : userClass(where, text, params);
  }

  private HookSpec userClass(String where, String className, Map<String, Object> raw) {
    if (!CLASS_NAME.matcher(className).matches()) {
      problems.add(where + " in " + origin + ": '" + className + "' is not a Java class name; give the fully"
          + " qualified name, e.g. com.example.MyHook");
      return null;
    }
    Map<String, String> params = new LinkedHashMap<>();
    boolean ok = true;
    for (Map.Entry<String, Object> e : raw.entrySet()) {
      Object v = e.getValue();
      if (v instanceof String || v instanceof Number || v instanceof Boolean) {
        params.put(e.getKey(), String.valueOf(v));
      } else {
        problems.add(where + " (" + className + ") in " + origin + ": parameter '" + e.getKey() + "' must be a"
            + " string, number or boolean (a hook class gets its parameters as strings), got "
            + ConfigBinder.describe(v));
        ok = false;
      }
    }
    return ok ? HookSpec.userClass(where, className, params) : null;
  }

  private HookSpec builtIn(String where, String name, Map<String, Object> raw) {
    HookType type = HookType.byName(name.toLowerCase(Locale.ROOT)).orElse(null);
    if (type == null) {
      problems.add(NearestKey.among(name, HookType.names())
          .map(nearest -> where + " in " + origin + ": unknown hook type '" + name + "'; did you mean '" + nearest
              + "'?")
          .orElse(where + " in " + origin + ": unknown hook type '" + name + "'; the hook types are "
              + String.join(", ", HookType.names()) + ", or give {class: ...} for a hook class of your own"));
      return null;
    }
    String label = where + " (" + type.configName() + ") in " + origin;
    if (type == HookType.STATS && key == ConfigKey.HOOKS_PRE) {
      problems.add(label + ": stats gathers statistics of the module's outputs; list it under hooks.forward");
      return null;
    }
    int before = problems.size();
    Map<String, Object> params = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : raw.entrySet()) {
      HookType.Param param = type.params().get(e.getKey());
      if (param == null) {
        String known = type.params().isEmpty() ? type.configName() + " takes no parameters"
            : type.configName() + " takes " + String.join(", ", type.paramNames());
        problems.add(NearestKey.among(e.getKey(), type.paramNames())
            .map(nearest -> label + ": unknown parameter '" + e.getKey() + "'; did you mean '" + nearest + "'? "
                + known)
            .orElse(label + ": unknown parameter '" + e.getKey() + "'; " + known));
        continue;
      }
      Object value = convert(param, e.getValue());
      if (value == null) {
        problems.add(label + ": parameter '" + param.name() + "' must be " + param.type().expectation + ", got "
            + ConfigBinder.describe(e.getValue()));
      } else {
        params.put(param.name(), value);
      }
    }
    if (problems.size() != before) {
      return null;
    }
    checkTogether(type, label, params);
    return problems.size() == before ? HookSpec.builtIn(where, type, params) : null;
  }

  /** The rules between a hook's parameters. */
  private void checkTogether(HookType type, String label, Map<String, Object> params) {
    switch (type) {
      case STANDARDIZE -> {
        for (String vector : List.of("mean", "std")) {
          boolean inline = params.containsKey(vector);
          boolean file = params.containsKey(vector + "-path");
          if (inline && file) {
            problems.add(label + ": both " + vector + " and " + vector + "-path are given; give one");
          } else if (!inline && !file) {
            problems.add(label + " needs " + vector + " (a list of numbers) or " + vector + "-path (a .npy file)");
          }
        }
        if (params.get("std") instanceof float[] std) {
          for (int i = 0; i < std.length; i++) {
            if (std[i] == 0) {
              problems.add(label + ": std[" + i + "] is 0, and dividing by it gives infinities; a column with std 0"
                  + " is constant: use std 1 for it");
            }
          }
        }
      }
      case CLAMP -> {
        Float min = (Float) params.get("min");
        Float max = (Float) params.get("max");
        if (min == null && max == null) {
          problems.add(label + " needs min, max or both, e.g. {type: clamp, min: 0, max: 6}");
        } else if (min != null && max != null && min > max) {
          problems.add(label + ": min " + min + " is greater than max " + max + "; swap them");
        }
      }
      case NAN_GUARD -> {
        if (!"replace".equals(params.get("action"))) {
          List<String> values = params.keySet().stream().filter(k -> !k.equals("action")).toList();
          if (!values.isEmpty()) {
            problems.add(label + ": " + String.join(", ", values) + (values.size() == 1 ? " is" : " are")
                + " only used with action: replace; remove " + (values.size() == 1 ? "it" : "them")
                + ", or set action: replace");
          }
        }
      }
      case STATS -> {
        float min = (Float) params.getOrDefault("min", -10f);
        float max = (Float) params.getOrDefault("max", 10f);
        if (!(min < max)) {
          problems.add(label + ": the histogram's min " + min + " must be less than its max " + max);
        }
      }
      default -> { }
    }
  }

  private static Object convert(HookType.Param param, Object value) {
    switch (param.type()) {
      case NUMBER:
        return finite(value);
      case POSITIVE_NUMBER: {
        Float number = finite(value);
        return number != null && number > 0 ? number : null;
      }
      case VECTOR: {
        if (!(value instanceof List<?> list) || list.isEmpty()) {
          return null;
        }
        float[] vector = new float[list.size()];
        for (int i = 0; i < vector.length; i++) {
          Float number = finite(list.get(i));
          if (number == null) {
            return null;
          }
          vector[i] = number;
        }
        return vector;
      }
      case PATH:
        return value instanceof String text && !text.isBlank() ? text : null;
      case ACTION:
        return value instanceof String text && List.of("fail", "replace").contains(text.toLowerCase(Locale.ROOT))
            ? text.toLowerCase(Locale.ROOT) : null;
      case BINS: {
        Long number = value instanceof Integer || value instanceof Long ? ((Number) value).longValue()
            : value instanceof BigInteger big && big.bitLength() < 32 ? big.longValue() : null;
        return number != null && number >= 1 && number <= HookType.MAX_BINS ? (Object) number.intValue() : null;
      }
      default:
        throw new AssertionError(param.type());
    }
  }

  private static Float finite(Object value) {
    if (!(value instanceof Number number)) {
      return null;
    }
    float f = number.floatValue();
    return Float.isFinite(f) ? f : null;
  }

  /**
   * Checks inline vectors against the width they apply to: {@code in_features} for pre-hooks, {@code out_features}
   * for forward hooks.
   */
  static void checkWidths(List<HookSpec> specs, String origin, String widthName, int width, List<String> problems) {
    for (HookSpec spec : specs) {
      if (spec.type().orElse(null) != HookType.STANDARDIZE) {
        continue;
      }
      for (String vector : List.of("mean", "std")) {
        float[] values = spec.vector(vector);
        if (values != null && values.length != width) {
          problems.add(spec.label() + " in " + origin + ": " + vector + " has " + values.length + " values, expected "
              + widthName + " = " + width + "; give one value per " + (widthName.startsWith("in") ? "input feature"
              : "output"));
        }
      }
    }
  }
}
