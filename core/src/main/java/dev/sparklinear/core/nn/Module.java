package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.block.ProgramAllocator;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The base of every module, after PyTorch's {@code torch.nn.Module}.
 *
 * <p>A module is run with {@link #call(FloatBlock)}, never by calling {@link #forward} directly: {@code call} runs the
 * global forward pre-hooks, the module's forward pre-hooks (a non-null result replaces the input), {@code forward},
 * the global forward hooks and the module's forward hooks (a non-null result replaces the output). With no hook
 * registered anywhere it goes straight to {@code forward}. Subclasses implement {@code forward} and, for their
 * {@code toString()}, {@link #extraRepr()}; nothing else of the pipeline.
 *
 * <p>A module holds named {@link Parameter}s and child modules; {@link #stateDict()} and {@link #loadStateDict} see them
 * under dotted names ({@code fc.weight}). Modules are {@link Serializable} so that a Spark job can broadcast them;
 * the module's own hooks travel with it and must then be serializable too (see {@code writeObject}).
 *
 * <p>Modules may be called from several threads at once (Spark runs one task per core against one shared instance):
 * {@code forward} must not keep per-call state in fields, and registering or removing a hook is safe during calls.
 *
 * <p>Block ownership: the caller owns the input and closes the returned block. Blocks that hooks return become the
 * pipeline's, and the pipeline closes those it replaces.
 */
public abstract class Module implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final HookList<ForwardPreHook> GLOBAL_PRE_HOOKS = new HookList<>();
  private static final HookList<ForwardHook> GLOBAL_FORWARD_HOOKS = new HookList<>();

  /** Registered parameters in registration order. */
  private final LinkedHashMap<String, Parameter> parameters = new LinkedHashMap<>();
  /** Registered children in registration order. */
  private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;

  private transient HookList<ForwardPreHook> preHooks = new HookList<>();
  private transient HookList<ForwardHook> forwardHooks = new HookList<>();

  /**
   * Computes this module's output for {@code input}. Called only by {@link #call}; returns a block the caller of
   * {@code call} will own (allocate it from {@link CallContext#allocator()}).
   */
  protected abstract FloatBlock forward(FloatBlock input, CallContext context);

  /** The part of {@link #toString()} between the parentheses, as PyTorch's {@code extra_repr}. */
  protected String extraRepr() {
    return "";
  }

  /** Runs the module on {@code input}, allocating the output from the input's allocator. The caller closes the result. */
  public final FloatBlock call(FloatBlock input) {
    return call(input, CallContext.of(input));
  }

  /** Runs the module on {@code input} through the whole hook pipeline. The caller closes the result. */
  public final FloatBlock call(FloatBlock input, CallContext context) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(context, "context");
    HookList.Entry<ForwardPreHook>[] globalPre = GLOBAL_PRE_HOOKS.snapshot();
    HookList.Entry<ForwardPreHook>[] pre = preHooks.snapshot();
    HookList.Entry<ForwardHook>[] globalForward = GLOBAL_FORWARD_HOOKS.snapshot();
    HookList.Entry<ForwardHook>[] forward = forwardHooks.snapshot();
    if (globalPre.length == 0 && pre.length == 0 && globalForward.length == 0 && forward.length == 0) {
      return forward(input, context);
    }
    return callWithHooks(input, context, globalPre, pre, globalForward, forward);
  }

  /**
   * Runs the module on one vector, as {@code fc(torch.tensor([...]))} does on a 1-D tensor: a one-row block through
   * the whole pipeline. Meant for examples and tests; a job calls blocks.
   */
  public final float[] call(float... vector) {
    try (BufferAllocator allocator = ProgramAllocator.newChild("Module.call(float...)");
        FloatBlock input = FloatBlock.ofRow(allocator, vector);
        FloatBlock output = call(input)) {
      return output.row(0);
    }
  }

  private FloatBlock callWithHooks(
      FloatBlock input,
      CallContext context,
      HookList.Entry<ForwardPreHook>[] globalPre,
      HookList.Entry<ForwardPreHook>[] pre,
      HookList.Entry<ForwardHook>[] globalForward,
      HookList.Entry<ForwardHook>[] forward) {
    FloatBlock x = input;
    FloatBlock y = null;
    Set<Long> alwaysCalledRan = new java.util.HashSet<>();
    try {
      for (HookList.Entry<ForwardPreHook>[] hooks : List.of(globalPre, pre)) {
        for (HookList.Entry<ForwardPreHook> entry : hooks) {
          FloatBlock replacement = entry.hook.apply(this, x, context);
          if (replacement != null && replacement != x) {
            closeUnlessKept(x, input);
            x = replacement;
          }
        }
      }
      y = forward(x, context);
      for (HookList.Entry<ForwardHook>[] hooks : List.of(globalForward, forward)) {
        for (HookList.Entry<ForwardHook> entry : hooks) {
          if (entry.alwaysCall) {
            alwaysCalledRan.add(entry.id);
          }
          FloatBlock replacement = entry.hook.apply(this, x, y, context);
          if (replacement != null && replacement != y) {
            closeUnlessKept(y, input, x);
            y = replacement;
          }
        }
      }
      closeUnlessKept(x, input, y);
      return y;
    } catch (Throwable failure) { // also checked exceptions thrown undeclared (Scala, sneaky throws)
      // As PyTorch: hooks registered with always_call run even now, once each; their own failures ride along.
      for (HookList.Entry<ForwardHook>[] hooks : List.of(globalForward, forward)) {
        for (HookList.Entry<ForwardHook> entry : hooks) {
          if (!entry.alwaysCall || !alwaysCalledRan.add(entry.id)) {
            continue;
          }
          try {
            FloatBlock replacement = entry.hook.apply(this, x, y, context);
            if (replacement != null && replacement != y) {
              closeUnlessKept(y, input, x);
              y = replacement;
            }
          } catch (Throwable hookFailure) {
            failure.addSuppressed(hookFailure);
          }
        }
      }
      if (y != null) {
        closeUnlessKept(y, input, x);
      }
      closeUnlessKept(x, input);
      throw failure;
    }
  }

  private static void closeUnlessKept(FloatBlock block, FloatBlock... kept) {
    if (block == null) {
      return; // no output yet: forward or a pre-hook failed
    }
    for (FloatBlock k : kept) {
      if (block == k) {
        return;
      }
    }
    block.close();
  }

  // ---------------------------------------------------------------------------------------------------------- hooks

  /** Registers a hook run before {@code forward}, after those already registered. */
  public final RemovableHandle registerForwardPreHook(ForwardPreHook hook, HookOption... options) {
    return addPreHook(preHooks, hook, options);
  }

  /** Registers a hook run after {@code forward}, after those already registered. */
  public final RemovableHandle registerForwardHook(ForwardHook hook, HookOption... options) {
    return addForwardHook(forwardHooks, hook, options);
  }

  /**
   * Registers a forward pre-hook for every module in this JVM, as PyTorch's {@code register_module_forward_pre_hook}.
   * Global hooks run before each module's own.
   */
  public static RemovableHandle registerGlobalForwardPreHook(ForwardPreHook hook, HookOption... options) {
    return addPreHook(GLOBAL_PRE_HOOKS, hook, options);
  }

  /**
   * Registers a forward hook for every module in this JVM, as PyTorch's {@code register_module_forward_hook}. Global
   * hooks run before each module's own.
   */
  public static RemovableHandle registerGlobalForwardHook(ForwardHook hook, HookOption... options) {
    return addForwardHook(GLOBAL_FORWARD_HOOKS, hook, options);
  }

  private static RemovableHandle addPreHook(HookList<ForwardPreHook> list, ForwardPreHook hook, HookOption... options) {
    Set<HookOption> set = options(options);
    if (set.contains(HookOption.ALWAYS_CALL)) {
      throw new IllegalArgumentException("ALWAYS_CALL applies to forward hooks only, not to forward pre-hooks");
    }
    return list.add(hook, set.contains(HookOption.PREPEND), false);
  }

  private static RemovableHandle addForwardHook(HookList<ForwardHook> list, ForwardHook hook, HookOption... options) {
    Set<HookOption> set = options(options);
    return list.add(hook, set.contains(HookOption.PREPEND), set.contains(HookOption.ALWAYS_CALL));
  }

  private static Set<HookOption> options(HookOption... options) {
    Set<HookOption> set = EnumSet.noneOf(HookOption.class);
    Collections.addAll(set, options);
    return set;
  }

  // ------------------------------------------------------------------------------------- parameters and children

  /**
   * Registers a parameter under {@code name} (no dots), as PyTorch's {@code register_parameter}. A layer without some
   * parameter (a Linear without bias) simply does not register it.
   */
  protected final void registerParameter(String name, Parameter parameter) {
    checkName(name, "parameter");
    Objects.requireNonNull(parameter, "parameter");
    if (children.containsKey(name)) {
      throw new IllegalArgumentException("attribute '" + name + "' already exists as a child module");
    }
    parameters.put(name, parameter);
    onParametersChanged();
  }

  /**
   * Replaces the parameter {@code name} with {@code value}, which must have the same shape: the Java form of
   * {@code module.weight = nn.Parameter(w)}.
   */
  protected final void replaceParameter(String name, Parameter value) {
    Objects.requireNonNull(value, "value");
    Parameter current = parameters.get(name);
    if (current == null) {
      throw new IllegalArgumentException(getName() + " has no parameter '" + name + "'");
    }
    if (!current.sameShape(value)) {
      throw new IllegalArgumentException(
          "Cannot assign a parameter of shape " + value.shapeString() + " to '" + name + "' of " + this
              + ": expected shape " + current.shapeString());
    }
    parameters.put(name, value);
    onParametersChanged();
  }

  /** Registers a child module under {@code name} (no dots), as PyTorch's {@code add_module}. */
  protected final void registerModule(String name, Module child) {
    checkName(name, "module");
    Objects.requireNonNull(child, "child");
    if (parameters.containsKey(name)) {
      throw new IllegalArgumentException("attribute '" + name + "' already exists as a parameter");
    }
    children.put(name, child);
  }

  private static void checkName(String name, String what) {
    if (name == null || name.isEmpty() || name.contains(".")) {
      throw new IllegalArgumentException(what + " name can't be empty or contain \".\", got: " + name);
    }
  }

  /**
   * Called after this module's parameters changed (registered, replaced or loaded), so that a subclass can drop
   * anything it derived from them, such as a packed kernel.
   */
  protected void onParametersChanged() {}

  /** This module's own parameter {@code name}, or null. */
  public final Parameter parameter(String name) {
    return parameters.get(name);
  }

  /** Every parameter of this module and its descendants under its dotted name, in registration order. */
  public final Map<String, Parameter> namedParameters() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    for (Slot slot : slots()) {
      out.put(slot.key, slot.owner.parameters.get(slot.localName));
    }
    return Collections.unmodifiableMap(out);
  }

  /** The direct children under their names, in registration order. */
  public final Map<String, Module> namedChildren() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(children));
  }

  /** One parameter of the tree: which module holds it, under which local and dotted name. */
  private record Slot(Module owner, String localName, String key) {}

  private List<Slot> slots() {
    List<Slot> out = new ArrayList<>();
    collectSlots("", out);
    return out;
  }

  private void collectSlots(String prefix, List<Slot> out) {
    for (String name : parameters.keySet()) {
      out.add(new Slot(this, name, prefix + name));
    }
    for (Map.Entry<String, Module> child : children.entrySet()) {
      child.getValue().collectSlots(prefix + child.getKey() + ".", out);
    }
  }

  // ------------------------------------------------------------------------------------------------- state dict

  /** The parameters under dotted names, in order, as PyTorch's {@code state_dict()}. Tensors are immutable: no copy. */
  public final Map<String, Tensor> stateDict() {
    return Collections.unmodifiableMap(new LinkedHashMap<String, Tensor>(namedParameters()));
  }

  /**
   * Copies parameters from {@code stateDict}, as PyTorch's {@code load_state_dict}.
   *
   * <p>Every problem is gathered into one {@link StateDictLoadException} worded like PyTorch's: missing keys and
   * unexpected keys (when {@code strict}) and size mismatches (always). Unlike PyTorch, a failed load changes
   * nothing: a module is never left half loaded.
   *
   * @return the keys a non-strict load left out (both lists are empty after a strict load)
   */
  public final IncompatibleKeys loadStateDict(Map<String, ? extends Tensor> stateDict, boolean strict) {
    Objects.requireNonNull(stateDict, "stateDict");
    List<Slot> slots = slots();
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Map<Slot, Parameter> updates = new LinkedHashMap<>();
    for (Slot slot : slots) {
      Tensor value = stateDict.get(slot.key);
      Parameter current = slot.owner.parameters.get(slot.localName);
      if (value == null) {
        missing.add(slot.key);
      } else if (!current.sameShape(value)) {
        mismatched.add(slot.key);
        errors.add("size mismatch for " + slot.key + ": copying a param with shape " + value.shapeString()
            + " from checkpoint, the shape in current model is " + current.shapeString() + ".");
      } else {
        updates.put(slot, Parameter.wrap(value.toArray(), value.shape(), current.requiresGrad()));
      }
    }
    Set<String> known = slots.stream().map(Slot::key).collect(Collectors.toSet());
    List<String> unexpected = stateDict.keySet().stream().filter(k -> !known.contains(k)).toList();
    if (strict) {
      if (!unexpected.isEmpty()) {
        errors.add(0, "Unexpected key(s) in state_dict: " + quoted(unexpected) + ". ");
      }
      if (!missing.isEmpty()) {
        errors.add(0, "Missing key(s) in state_dict: " + quoted(missing) + ". ");
      }
    }
    if (!errors.isEmpty()) {
      throw new StateDictLoadException(
          "Error(s) in loading state_dict for " + getName() + ":\n\t" + String.join("\n\t", errors),
          strict ? missing : List.of(), strict ? unexpected : List.of(), mismatched);
    }
    Set<Module> changed = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Map.Entry<Slot, Parameter> update : updates.entrySet()) {
      update.getKey().owner.parameters.put(update.getKey().localName, update.getValue());
      changed.add(update.getKey().owner);
    }
    changed.forEach(Module::onParametersChanged);
    return new IncompatibleKeys(missing, unexpected);
  }

  private static String quoted(List<String> keys) {
    return keys.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", "));
  }

  // ----------------------------------------------------------------------------------------------- modes, repr

  /** Sets training mode on this module and its descendants, as PyTorch's {@code train(mode)}. */
  public Module train(boolean mode) {
    training = mode;
    children.values().forEach(c -> c.train(mode));
    return this;
  }

  public final Module train() {
    return train(true);
  }

  /** Sets evaluation mode, as PyTorch's {@code eval()}: the same as {@code train(false)}. */
  public final Module eval() {
    return train(false);
  }

  public final boolean isTraining() {
    return training;
  }

  /** The class name PyTorch shows in its repr. */
  public String getName() {
    return getClass().getSimpleName();
  }

  /** PyTorch's repr: {@code Linear(in_features=4, out_features=3, bias=true)}, children indented below. */
  @Override
  public String toString() {
    List<String> extraLines = extraRepr().isEmpty() ? List.of() : List.of(extraRepr().split("\n"));
    List<String> childLines = new ArrayList<>();
    for (Map.Entry<String, Module> child : children.entrySet()) {
      String repr = child.getValue().toString().replace("\n", "\n  ");
      childLines.add("(" + child.getKey() + "): " + repr);
    }
    StringBuilder sb = new StringBuilder(getName()).append('(');
    if (extraLines.size() == 1 && childLines.isEmpty()) {
      sb.append(extraLines.get(0));
    } else if (!extraLines.isEmpty() || !childLines.isEmpty()) {
      List<String> lines = new ArrayList<>(extraLines);
      lines.addAll(childLines);
      sb.append("\n  ").append(String.join("\n  ", lines)).append('\n');
    }
    return sb.append(')').toString();
  }

  // ------------------------------------------------------------------------------------------------ serialization

  /**
   * Writes the module with its own hooks, as pickling a PyTorch module keeps its hooks: a hook that is not
   * {@link Serializable} makes the write fail with a message naming it, rather than vanish on the executors.
   * Global hooks belong to a JVM, not to a module, and are not written.
   */
  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    writeHooks(out, preHooks, "forward pre-hook");
    writeHooks(out, forwardHooks, "forward hook");
  }

  private void writeHooks(ObjectOutputStream out, HookList<?> hooks, String kind) throws IOException {
    HookList.Entry<?>[] entries = hooks.snapshot();
    for (HookList.Entry<?> entry : entries) {
      if (!(entry.hook instanceof Serializable)) {
        throw new NotSerializableException("The " + kind + " " + entry.hook.getClass().getName() + " registered on "
            + getName() + " is not Serializable, so the module cannot be sent to executors: make the hook class"
            + " implement java.io.Serializable (for a lambda, cast it to (ForwardHook & Serializable)), or remove"
            + " it before broadcasting the module");
      }
    }
    out.writeInt(entries.length);
    for (HookList.Entry<?> entry : entries) {
      out.writeObject(entry.hook);
      out.writeBoolean(entry.alwaysCall);
    }
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    preHooks = new HookList<>();
    forwardHooks = new HookList<>();
    int preCount = in.readInt();
    for (int i = 0; i < preCount; i++) {
      ForwardPreHook hook = (ForwardPreHook) in.readObject();
      in.readBoolean();
      preHooks.add(hook, false, false);
    }
    int forwardCount = in.readInt();
    for (int i = 0; i < forwardCount; i++) {
      ForwardHook hook = (ForwardHook) in.readObject();
      forwardHooks.add(hook, false, in.readBoolean());
    }
  }
}
