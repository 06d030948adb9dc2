package dev.sparklinear.spark.hooks;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.ForwardPreHook;
import dev.sparklinear.core.nn.Module;
import java.io.Serializable;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A user's hook class, named in the job config, that is loaded where the hooks run: on the executors, from the
 * application jar or a jar given with {@code --jars}. Only the class name and its parameters travel with the module;
 * the first call in each executor JVM loads the class with the task's context class loader (which sees
 * {@code --jars}), makes one instance, and every later call of that JVM uses it.
 *
 * <p>A user hook class must be public, implement {@link ForwardPreHook} (for {@code hooks.pre}) or {@link ForwardHook}
 * (for {@code hooks.forward}) and have a public constructor taking the parameters as a {@code Map<String, String>}
 * or, when it takes no parameters, a public no-argument constructor. One instance serves every task of an executor
 * at once, so it must be thread-safe, as modules are. It need not be {@link Serializable}.
 *
 * <pre>{@code
 * // hooks.forward: [{class: com.example.Scale, factor: 2}]
 * public class Scale implements ForwardHook {
 *   private final float factor;
 *   public Scale(Map<String, String> params) { factor = Float.parseFloat(params.get("factor")); }
 *   public FloatBlock apply(Module m, FloatBlock input, FloatBlock output, CallContext ctx) { ... }
 * }
 * }</pre>
 *
 * <p>{@link #check} runs on the driver before any task: when the class is on the driver's class path, a class that
 * does not implement the interface, or has no usable constructor, is refused there. No class that does not implement
 * the interface is ever instantiated.
 */
public final class ConfiguredHook implements ForwardPreHook, ForwardHook, Serializable {
  private static final long serialVersionUID = 1L;

  /** Where a hook runs, and the interface its class must implement. */
  public enum Kind {
    PRE,
    FORWARD;

    public Class<?> hookInterface() {
      return this == PRE ? ForwardPreHook.class : ForwardHook.class;
    }

    public String configKey() {
      return this == PRE ? "hooks.pre" : "hooks.forward";
    }
  }

  private final String className;
  private final Kind kind;
  private final Map<String, String> params;
  private final String where;
  private transient Object instance;

  /**
   * @param className the fully qualified (binary) class name
   * @param kind whether it runs before or after the module
   * @param params the parameters handed to its constructor
   * @param where the config entry, for messages, e.g. {@code hooks.forward[0]}
   */
  public ConfiguredHook(String className, Kind kind, Map<String, String> params, String where) {
    this.className = className;
    this.kind = kind;
    this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    this.where = where;
  }

  /**
   * Checks on the driver what can be checked before any task runs. Nothing is instantiated.
   *
   * @return the problem, if the class is found with {@code loader} and cannot be used; empty when it is usable or
   *     not on the driver's class path (then the executors will look for it)
   */
  public Optional<String> check(ClassLoader loader) {
    Class<?> type;
    try {
      type = Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return Optional.empty();
    }
    return problemWith(type);
  }

  private Optional<String> problemWith(Class<?> type) {
    String name = "Hook class " + className + " (" + where + ")";
    if (!kind.hookInterface().isAssignableFrom(type)) {
      String other = kind == Kind.PRE && ForwardHook.class.isAssignableFrom(type) ? "; it is a forward hook: list it"
          + " under " + Kind.FORWARD.configKey() : kind == Kind.FORWARD && ForwardPreHook.class.isAssignableFrom(type)
          ? "; it is a forward pre-hook: list it under " + Kind.PRE.configKey() : "";
      return Optional.of(name + " does not implement " + kind.hookInterface().getName() + other);
    }
    if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())
        || (type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers()))) {
      return Optional.of(name + " must be a public, concrete, top-level or static nested class");
    }
    if (constructor(type, Map.class) == null && (constructor(type) == null || !params.isEmpty())) {
      return Optional.of(name + (params.isEmpty()
          ? " has neither a public constructor taking Map<String, String> nor a public no-argument constructor"
          : " is given parameters " + params.keySet() + " but has no public constructor taking"
              + " Map<String, String>"));
    }
    return Optional.empty();
  }

  /** The public constructor of {@code type} taking {@code parameters}, or null. */
  private static Constructor<?> constructor(Class<?> type, Class<?>... parameters) {
    try {
      return type.getConstructor(parameters);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /** The user's hook, loaded and made on the first call in this JVM. A lock per block run, not per value. */
  synchronized Object instance() {
    if (instance == null) {
      instance = load();
    }
    return instance;
  }

  private Object load() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = ConfiguredHook.class.getClassLoader();
    }
    Class<?> type;
    try {
      type = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Hook class " + className + " (" + where + ") was not found on the executor;"
          + " put it in the application jar or add its jar with --jars", e);
    }
    problemWith(type).ifPresent(problem -> {
      throw new IllegalStateException(problem);
    });
    try {
      Constructor<?> withParams = constructor(type, Map.class);
      return withParams != null ? withParams.newInstance(params) : type.getConstructor().newInstance();
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("Hook class " + className + " (" + where + ") failed in its constructor: "
          + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Cannot make an instance of hook class " + className + " (" + where + "): " + e,
          e);
    }
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, CallContext context) {
    return ((ForwardPreHook) instance()).apply(module, input, context);
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    return ((ForwardHook) instance()).apply(module, input, output, context);
  }

  @Override
  public String toString() {
    return "ConfiguredHook(" + className + (params.isEmpty() ? "" : ", " + params) + ")";
  }
}
