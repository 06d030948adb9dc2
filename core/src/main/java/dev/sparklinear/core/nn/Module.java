package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.block.ProgramAllocator;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The base of every module, after PyTorch's {@code torch.nn.Module}.
 *
 * <p>A module is run with {@link #call(FloatBlock)}, never by calling {@link #forward} directly: {@code call} runs the
 * global forward pre-hooks, the module's forward pre-hooks (a non-null result replaces the input), {@code forward},
 * the global forward hooks and the module's forward hooks (a non-null result replaces the output). With no hook
 * registered anywhere it goes straight to {@code forward}. Subclasses implement {@code forward} and, for their
 * {@code toString()}, {@link #extraRepr()}; nothing else of the pipeline. A module that runs children (such as
 * {@link Sequential}) runs each through its {@code call}, so every node's hooks fire, in PyTorch's order.
 *
 * <p>A module holds named {@link Parameter}s, buffers (state that is not a parameter, such as running statistics;
 * integer buffers are int64 tensors) and child modules, so modules form trees. {@link #namedModules()},
 * {@link #namedParameters()}, {@link #namedBuffers()}, {@link #apply}, {@link #train(boolean)} and {@link #eval()}
 * walk the tree as PyTorch's do; {@link #stateDict()} and {@link #loadStateDict} see parameters and persistent buffers
 * under dotted names ({@code 0.weight}, {@code 1.running_mean}). Modules are {@link Serializable} so that a Spark job
 * can broadcast them; the module's own hooks travel with it and must then be serializable too (see
 * {@code writeObject}).
 *
 * <p>Modules may be called from several threads at once (Spark runs one task per core against one shared instance):
 * {@code forward} must not keep per-call state in fields, and registering or removing a hook is safe during calls.
 * Changing the tree itself (registering children, loading a state dict) is not meant to happen during calls.
 *
 * <p>Block ownership: the caller owns the input and closes the returned block. Blocks that hooks return become the
 * pipeline's, and the pipeline closes those it replaces.
 *
 * <p><b>Backward.</b> A call made with a context that has a {@link GradientTape} ({@link CallContext#withTape}) is
 * recorded, so that {@link GradientTape#backward} can compute the gradients of the parameters (accumulated into
 * {@link Parameter#grad()}, or into the tape's {@link GradientSums}) and of the inputs, running the backward
 * pre-hooks and backward hooks registered with {@link #registerFullBackwardPreHook} and
 * {@link #registerFullBackwardHook} (and their global forms) as PyTorch's {@code register_full_backward_pre_hook} and
 * {@code register_full_backward_hook} do. A call without a tape records nothing, as under torch's {@code no_grad}.
 */
public abstract class Module implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final HookList<ForwardPreHook> GLOBAL_PRE_HOOKS = new HookList<>();
  private static final HookList<ForwardHook> GLOBAL_FORWARD_HOOKS = new HookList<>();
  @SuppressWarnings("unchecked")
  private static final HookList.Entry<ForwardPreHook>[] NO_PRE_HOOKS = new HookList.Entry[0];
  @SuppressWarnings("unchecked")
  private static final HookList.Entry<ForwardHook>[] NO_FORWARD_HOOKS = new HookList.Entry[0];
  private static final HookList<BackwardPreHook> GLOBAL_BACKWARD_PRE_HOOKS = new HookList<>();
  private static final HookList<BackwardHook> GLOBAL_BACKWARD_HOOKS = new HookList<>();

  /** {@link #savedForBackward()}: the backward reads the block {@code forward} was given. */
  static final int SAVES_INPUT = 1;
  /** {@link #savedForBackward()}: the backward reads the block {@code forward} returned. */
  static final int SAVES_OUTPUT = 2;
  /** {@link #savedForBackward()}: the module has no backward of its own; it only runs children. */
  static final int NO_BACKWARD = -1;

  /** Registered parameters in registration order. */
  private final LinkedHashMap<String, Parameter> parameters = new LinkedHashMap<>();
  /** Registered buffers in registration order. */
  private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
  /** The buffers registered with {@code persistent = false}: not in the state dict. */
  private final LinkedHashSet<String> nonPersistentBuffers = new LinkedHashSet<>();
  /** Registered children in registration order. */
  private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;

  private transient HookList<ForwardPreHook> preHooks = new HookList<>();
  private transient HookList<ForwardHook> forwardHooks = new HookList<>();
  private transient HookList<BackwardPreHook> backwardPreHooks = new HookList<>();
  private transient HookList<BackwardHook> backwardHooks = new HookList<>();

  /**
   * Computes this module's output for {@code input}. Called only by {@link #call}; returns a block the caller of
   * {@code call} will own (take it from {@link CallContext#allocate}, which reuses a pooled buffer in a job).
   */
  protected abstract FloatBlock forward(FloatBlock input, CallContext context);

  /** The part of {@link #toString()} between the parentheses, as PyTorch's {@code extra_repr}. */
  protected String extraRepr() {
    return "";
  }

  /**
   * Which blocks of its forward this module's backward reads, {@link #SAVES_INPUT} and/or {@link #SAVES_OUTPUT}, so
   * that a {@link GradientTape} keeps copies of those only; {@link #NO_BACKWARD} (the default) for a module whose
   * forward only runs children through their {@code call}, whose backward is theirs.
   */
  int savedForBackward() {
    return NO_BACKWARD;
  }

  /**
   * This module's forward in float64, on the float64 values of its input, for a {@link GradientTape}: the same
   * function as {@code forward}, without rounding to float32, so that a backward pass reads activations as exact as
   * torch's float64 pass. Null (the default) for a module with {@link #NO_BACKWARD}.
   */
  Float64Block forward64(Float64Block input) {
    return null;
  }

  /**
   * {@link #forward64} to be run later, when a tape needs its result, with the parameters this module has now: by
   * default run now. A module whose float64 forward is costly overrides it to defer the work.
   */
  Supplier<Float64Block> forward64Deferred(Float64Block input) {
    Float64Block output = forward64(input);
    return () -> output;
  }

  /**
   * The backward of a module that has one ({@link #savedForBackward()} not {@link #NO_BACKWARD}), in float64: returns
   * the gradient with respect to the input when {@code inputNeedsGrad} (else null), and puts into {@code gradients}
   * the gradient of each of this module's parameters that requires grad (none when {@code gradients} is null, as when
   * only an input's gradient is asked for).
   *
   * @param input the float64 input of {@link #forward64}, or null when not asked for in {@link #savedForBackward()}
   * @param output the float64 output of {@link #forward64}, or null when not asked for
   * @param gradOutput the gradient with respect to the output; not changed here
   */
  Float64Block backward(Float64Block input, Float64Block output, Float64Block gradOutput, boolean inputNeedsGrad,
      GradientSink gradients) {
    throw new UnsupportedOperationException(getName() + " has no backward");
  }

  /** Whether one of this module's own parameters requires grad (so that its output does, in a backward pass). */
  final boolean ownParameterRequiresGrad() {
    for (Parameter parameter : parameters.values()) {
      if (parameter.requiresGrad()) {
        return true;
      }
    }
    return false;
  }

  /** Runs the module on {@code input}, allocating the output from the input's allocator. The caller closes the result. */
  public final FloatBlock call(FloatBlock input) {
    return call(input, CallContext.of(input));
  }

  /** Runs the module on {@code input} through the whole hook pipeline. The caller closes the result. */
  public final FloatBlock call(FloatBlock input, CallContext context) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(context, "context");
    if (context.tape() != null) {
      return callRecorded(input, context, context.tape());
    }
    HookList.Entry<ForwardPreHook>[] globalPre = GLOBAL_PRE_HOOKS.snapshot();
    HookList.Entry<ForwardPreHook>[] pre = preHooks.snapshot();
    HookList.Entry<ForwardHook>[] globalForward = GLOBAL_FORWARD_HOOKS.snapshot();
    HookList.Entry<ForwardHook>[] forward = forwardHooks.snapshot();
    if (globalPre.length == 0 && pre.length == 0 && globalForward.length == 0 && forward.length == 0) {
      return forward(input, context);
    }
    return callWithHooks(input, context, globalPre, pre, globalForward, forward, this::forward);
  }

  /**
   * {@code call} under a tape: the same pipeline, with {@code forward} recorded (see {@link GradientTape}) together with
   * the backward hooks registered now, as PyTorch binds a call's backward hooks when the call is made.
   */
  private FloatBlock callRecorded(FloatBlock input, CallContext context, GradientTape tape) {
    HookList.Entry<ForwardPreHook>[] globalPre = GLOBAL_PRE_HOOKS.snapshot();
    HookList.Entry<ForwardPreHook>[] pre = preHooks.snapshot();
    HookList.Entry<ForwardHook>[] globalForward = GLOBAL_FORWARD_HOOKS.snapshot();
    HookList.Entry<ForwardHook>[] forward = forwardHooks.snapshot();
    GradientTape.Node node = tape.open(this, input, backwardPreHooks(), backwardHooks());
    try {
      BiFunction<FloatBlock, CallContext, FloatBlock> body = (x, c) -> tape.runForward(node, x, c);
      FloatBlock output = globalPre.length == 0 && pre.length == 0 && globalForward.length == 0 && forward.length == 0
          ? body.apply(input, context)
          : callWithHooks(input, context, globalPre, pre, globalForward, forward, body);
      tape.close(node, output);
      return output;
    } catch (Throwable failure) {
      tape.abandon(node);
      throw failure;
    }
  }

  /** The backward pre-hooks a call binds now: the global ones, then this module's. */
  private List<BackwardPreHook> backwardPreHooks() {
    return hooks(GLOBAL_BACKWARD_PRE_HOOKS, backwardPreHooks);
  }

  /** The backward hooks a call binds now: the global ones, then this module's. */
  private List<BackwardHook> backwardHooks() {
    return hooks(GLOBAL_BACKWARD_HOOKS, backwardHooks);
  }

  private static <H> List<H> hooks(HookList<H> global, HookList<H> own) {
    HookList.Entry<H>[] first = global.snapshot();
    HookList.Entry<H>[] second = own.snapshot();
    if (first.length == 0 && second.length == 0) {
      return List.of();
    }
    List<H> out = new ArrayList<>(first.length + second.length);
    for (HookList.Entry<H> entry : first) {
      out.add(entry.hook);
    }
    for (HookList.Entry<H> entry : second) {
      out.add(entry.hook);
    }
    return out;
  }

  /**
   * Runs this module and then {@code next} on its output as one step, {@code fused} computing both, provided that no
   * hook could see the block between them: no global hook, no forward hook on this module, no hook on {@code next}.
   * This module's own pre-hooks still run, on its input, as {@code call} runs them. Returns null, having run nothing,
   * when such a hook is registered, or when the context records for a backward pass (each module's backward needs
   * its own call): then the caller runs both modules through {@code call}.
   */
  final FloatBlock callFused(
      Module next, FloatBlock input, CallContext context, BiFunction<FloatBlock, CallContext, FloatBlock> fused) {
    if (context.tape() != null || !GLOBAL_PRE_HOOKS.isEmpty() || !GLOBAL_FORWARD_HOOKS.isEmpty() || !forwardHooks.isEmpty()
        || !next.preHooks.isEmpty() || !next.forwardHooks.isEmpty()) {
      return null;
    }
    HookList.Entry<ForwardPreHook>[] pre = preHooks.snapshot();
    if (pre.length == 0) {
      return fused.apply(input, context);
    }
    return callWithHooks(input, context, NO_PRE_HOOKS, pre, NO_FORWARD_HOOKS, NO_FORWARD_HOOKS, fused);
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
      HookList.Entry<ForwardHook>[] forward,
      BiFunction<FloatBlock, CallContext, FloatBlock> body) {
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
      y = body.apply(x, context);
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

  /**
   * Registers a hook run in a backward pass when the gradient with respect to this module's output is known, before
   * the module's backward, as PyTorch's {@code register_full_backward_pre_hook}; it may replace that gradient (see
   * {@link BackwardPreHook}). Runs after those already registered, or before them with {@link HookOption#PREPEND}.
   * A recorded call binds the hooks registered when it was made.
   */
  public final RemovableHandle registerFullBackwardPreHook(BackwardPreHook hook, HookOption... options) {
    return addBackwardHook(backwardPreHooks, hook, options);
  }

  /**
   * Registers a hook run in a backward pass when the gradient with respect to this module's input is known, as
   * PyTorch's {@code register_full_backward_hook}; it may replace that gradient (see {@link BackwardHook}). Runs after
   * those already registered, or before them with {@link HookOption#PREPEND}.
   */
  public final RemovableHandle registerFullBackwardHook(BackwardHook hook, HookOption... options) {
    return addBackwardHook(backwardHooks, hook, options);
  }

  /**
   * Registers a backward pre-hook for every module in this JVM, as PyTorch's
   * {@code register_module_full_backward_pre_hook}. Global hooks run before each module's own.
   */
  public static RemovableHandle registerGlobalFullBackwardPreHook(BackwardPreHook hook, HookOption... options) {
    return addBackwardHook(GLOBAL_BACKWARD_PRE_HOOKS, hook, options);
  }

  /**
   * Registers a backward hook for every module in this JVM, as PyTorch's {@code register_module_full_backward_hook}.
   * Global hooks run before each module's own.
   */
  public static RemovableHandle registerGlobalFullBackwardHook(BackwardHook hook, HookOption... options) {
    return addBackwardHook(GLOBAL_BACKWARD_HOOKS, hook, options);
  }

  private static <H> RemovableHandle addBackwardHook(HookList<H> list, H hook, HookOption... options) {
    Set<HookOption> set = options(options);
    if (set.contains(HookOption.ALWAYS_CALL)) {
      throw new IllegalArgumentException("ALWAYS_CALL applies to forward hooks only, not to backward hooks");
    }
    return list.add(hook, set.contains(HookOption.PREPEND), false);
  }

  private static Set<HookOption> options(HookOption... options) {
    Set<HookOption> set = EnumSet.noneOf(HookOption.class);
    Collections.addAll(set, options);
    return set;
  }

  // ------------------------------------------------------------------------------ parameters, buffers and children

  /**
   * Registers a parameter under {@code name} (no dots), as PyTorch's {@code register_parameter}. A layer without some
   * parameter (a Linear without bias) simply does not register it.
   */
  protected final void registerParameter(String name, Parameter parameter) {
    checkName(name, "parameter");
    Objects.requireNonNull(parameter, "parameter");
    checkFree(name, children, "a child module");
    checkFree(name, buffers, "a buffer");
    parameters.put(name, parameter);
    onParametersChanged();
  }

  /**
   * Registers a buffer under {@code name} (no dots), as PyTorch's {@code register_buffer}: state that is not a
   * parameter, such as BatchNorm's running statistics. A persistent buffer is part of {@link #stateDict()} and is
   * loaded by {@link #loadStateDict}; a non-persistent one is only listed by {@link #namedBuffers()}. An integer
   * buffer is an {@link Dtype#INT64} tensor and stays one: loading converts values to the buffer's dtype, as
   * PyTorch's {@code copy_} does.
   */
  protected final void registerBuffer(String name, Tensor tensor, boolean persistent) {
    checkName(name, "buffer");
    Objects.requireNonNull(tensor, "tensor");
    checkFree(name, children, "a child module");
    checkFree(name, parameters, "a parameter");
    buffers.put(name, plain(tensor, tensor.dtype()));
    if (persistent) {
      nonPersistentBuffers.remove(name);
    } else {
      nonPersistentBuffers.add(name);
    }
    onParametersChanged();
  }

  /**
   * Replaces the parameter {@code name} with {@code value}, which must have the same shape: the Java form of
   * {@code module.weight = nn.Parameter(w)}.
   */
  protected final void replaceParameter(String name, Parameter value) {
    Objects.requireNonNull(value, "value");
    checkReplacement("parameter", name, parameters.get(name), value);
    parameters.put(name, value);
    onParametersChanged();
  }

  /**
   * Replaces the buffer {@code name} with {@code value}, which must have the same shape; the values are converted
   * to the buffer's dtype, as {@code module.running_mean.copy_(value)} does.
   */
  protected final void replaceBuffer(String name, Tensor value) {
    Objects.requireNonNull(value, "value");
    Tensor current = buffers.get(name);
    checkReplacement("buffer", name, current, value);
    buffers.put(name, plain(value, current.dtype()));
    onParametersChanged();
  }

  private void checkReplacement(String kind, String name, Tensor current, Tensor value) {
    if (current == null) {
      throw new IllegalArgumentException(getName() + " has no " + kind + " '" + name + "'");
    }
    if (!current.sameShape(value)) {
      throw new IllegalArgumentException(
          "Cannot assign a " + kind + " of shape " + value.shapeString() + " to '" + name + "' of " + this
              + ": expected shape " + current.shapeString());
    }
  }

  /** A plain tensor (not a Parameter) of {@code dtype} holding {@code value}'s values, for a buffer. */
  private static Tensor plain(Tensor value, Dtype dtype) {
    if (dtype == Dtype.INT64) {
      return Tensor.wrapLongs(value.toLongArray(), value.shape());
    }
    return value.getClass() == Tensor.class && value.dtype() == dtype ? value : Tensor.wrap(value.toArray(), value.shape());
  }

  /** Registers a child module under {@code name} (no dots), as PyTorch's {@code add_module}. */
  protected final void registerModule(String name, Module child) {
    checkName(name, "module");
    Objects.requireNonNull(child, "child");
    checkFree(name, parameters, "a parameter");
    checkFree(name, buffers, "a buffer");
    children.put(name, child);
  }

  private static void checkName(String name, String what) {
    if (name == null || name.isEmpty() || name.contains(".")) {
      throw new IllegalArgumentException(what + " name can't be empty or contain \".\", got: " + name);
    }
  }

  private static void checkFree(String name, Map<String, ?> members, String what) {
    if (members.containsKey(name)) {
      throw new IllegalArgumentException("attribute '" + name + "' already exists as " + what);
    }
  }

  /**
   * Called after this module's parameters or buffers changed (registered, replaced or loaded), so that a subclass can
   * drop anything it derived from them, such as a packed kernel.
   */
  protected void onParametersChanged() {}

  /** This module's own parameter {@code name}, or null. */
  public final Parameter parameter(String name) {
    return parameters.get(name);
  }

  /** This module's own buffer {@code name}, or null. */
  public final Tensor buffer(String name) {
    return buffers.get(name);
  }

  /**
   * Every parameter of this module and its descendants under its dotted name, as PyTorch's
   * {@code named_parameters()}: modules in {@link #namedModules()} order, each one's own parameters in registration
   * order; a parameter shared by several modules is listed once, under its first name.
   */
  public final Map<String, Parameter> namedParameters() {
    return namedMembers(m -> m.parameters);
  }

  /**
   * Every buffer of this module and its descendants under its dotted name, persistent or not, as PyTorch's
   * {@code named_buffers()}, in the same order as {@link #namedParameters()}.
   */
  public final Map<String, Tensor> namedBuffers() {
    return namedMembers(m -> m.buffers);
  }

  private <T> Map<String, T> namedMembers(Function<Module, Map<String, T>> members) {
    Map<String, T> out = new LinkedHashMap<>();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Map.Entry<String, Module> module : namedModules().entrySet()) {
      String prefix = module.getKey().isEmpty() ? "" : module.getKey() + ".";
      for (Map.Entry<String, T> member : members.apply(module.getValue()).entrySet()) {
        if (seen.add(member.getValue())) {
          out.put(prefix + member.getKey(), member.getValue());
        }
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** The direct children under their names, in registration order. */
  public final Map<String, Module> namedChildren() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(children));
  }

  /** The direct children in registration order, as PyTorch's {@code children()}. */
  public final List<Module> children() {
    return List.copyOf(children.values());
  }

  /**
   * This module and every descendant under its dotted name, depth first with each parent before its children, as
   * PyTorch's {@code named_modules()}: this module is {@code ""}, its children {@code "0"} or {@code "fc"}, theirs
   * {@code "1.0"}. A module that appears twice in the tree is listed once, under its first name.
   */
  public final Map<String, Module> namedModules() {
    Map<String, Module> out = new LinkedHashMap<>();
    collectModules("", out, Collections.newSetFromMap(new IdentityHashMap<>()));
    return Collections.unmodifiableMap(out);
  }

  private void collectModules(String name, Map<String, Module> out, Set<Module> seen) {
    if (!seen.add(this)) {
      return;
    }
    out.put(name, this);
    for (Map.Entry<String, Module> child : children.entrySet()) {
      child.getValue().collectModules(name.isEmpty() ? child.getKey() : name + "." + child.getKey(), out, seen);
    }
  }

  /** This module and every descendant, in {@link #namedModules()} order, as PyTorch's {@code modules()}. */
  public final List<Module> modules() {
    return List.copyOf(namedModules().values());
  }

  /**
   * Calls {@code fn} on every child's tree (children first, recursively) and then on this module, as PyTorch's
   * {@code apply(fn)}; typically used to initialise parameters.
   *
   * @return this module
   */
  public final Module apply(Consumer<Module> fn) {
    Objects.requireNonNull(fn, "fn");
    for (Module child : children.values()) {
      child.apply(fn);
    }
    fn.accept(this);
    return this;
  }

  // --------------------------------------------------------------------------------------------------- gradients

  /**
   * Clears the gradient of every parameter in the tree, as torch's {@code zero_grad(set_to_none)}: removes it when
   * {@code setToNone} (torch 2's default), else fills it with zeros.
   */
  public final void zeroGrad(boolean setToNone) {
    for (Parameter parameter : namedParameters().values()) {
      parameter.zeroGrad(setToNone);
    }
  }

  /** {@link #zeroGrad(boolean) zeroGrad(true)}, torch 2's default. */
  public final void zeroGrad() {
    zeroGrad(true);
  }

  /**
   * Sets whether every parameter in the tree requires grad, as torch's {@code requires_grad_}: {@code false} freezes
   * the module (a backward pass computes no gradient for it and an optimizer leaves it alone).
   *
   * @return this module
   */
  public final Module requiresGrad(boolean requiresGrad) {
    for (Parameter parameter : namedParameters().values()) {
      parameter.setRequiresGrad(requiresGrad);
    }
    return this;
  }

  /**
   * Gives parameters new values, by their dotted names in {@link #namedParameters()}: the in-place update of an
   * optimizer step ({@code p.add_(...)} under {@code no_grad}) for immutable tensors. Each parameter is replaced by
   * one holding the new values, the same requires-grad flag and its gradient, everywhere it is registered, so a
   * parameter shared by several modules stays shared; modules whose parameters changed drop what they derived from
   * them (a packed kernel). Every name and shape is checked before anything changes: a failed update changes nothing.
   *
   * @throws IllegalArgumentException naming the first unknown name or wrong shape
   */
  public final void updateParameters(Map<String, ? extends Tensor> values) {
    Objects.requireNonNull(values, "values");
    Map<String, Parameter> named = namedParameters();
    Map<Parameter, Parameter> replacements = new IdentityHashMap<>();
    for (Map.Entry<String, ? extends Tensor> entry : values.entrySet()) {
      Parameter current = named.get(entry.getKey());
      if (current == null) {
        throw new IllegalArgumentException(getName() + " has no parameter '" + entry.getKey() + "'");
      }
      Tensor value = Objects.requireNonNull(entry.getValue(), entry.getKey());
      if (!current.sameShape(value)) {
        throw new IllegalArgumentException("Cannot update parameter '" + entry.getKey() + "' of shape "
            + current.shapeString() + " with values of shape " + value.shapeString());
      }
      replacements.put(current, current.withValues(value.toArray()));
    }
    for (Module module : modules()) {
      boolean changed = false;
      for (Map.Entry<String, Parameter> parameter : module.parameters.entrySet()) {
        Parameter replacement = replacements.get(parameter.getValue());
        if (replacement != null) {
          parameter.setValue(replacement);
          changed = true;
        }
      }
      if (changed) {
        module.onParametersChanged();
      }
    }
  }

  /**
   * One entry of the state dict: which module holds it, under which local and dotted name, and whether it is a
   * (persistent) buffer rather than a parameter.
   */
  private record Slot(Module owner, String localName, String key, boolean isBuffer) {
    Tensor current() {
      return isBuffer ? owner.buffers.get(localName) : owner.parameters.get(localName);
    }
  }

  /** The state dict's entries in PyTorch's order: each module's parameters, then its persistent buffers, then its
   * children's entries. Unlike {@link #namedParameters()}, a shared module appears under each of its names. */
  private List<Slot> slots() {
    List<Slot> out = new ArrayList<>();
    collectSlots("", out);
    return out;
  }

  private void collectSlots(String prefix, List<Slot> out) {
    for (String name : parameters.keySet()) {
      out.add(new Slot(this, name, prefix + name, false));
    }
    for (String name : buffers.keySet()) {
      if (!nonPersistentBuffers.contains(name)) {
        out.add(new Slot(this, name, prefix + name, true));
      }
    }
    for (Map.Entry<String, Module> child : children.entrySet()) {
      child.getValue().collectSlots(prefix + child.getKey() + ".", out);
    }
  }

  // ------------------------------------------------------------------------------------------------- state dict

  /**
   * The parameters and persistent buffers under dotted names, in PyTorch's order ({@code 0.weight}, {@code 0.bias},
   * {@code 1.weight}, {@code 1.bias}, {@code 1.running_mean}, {@code 1.running_var}, {@code 1.num_batches_tracked}),
   * as {@code state_dict()}. Integer buffers are {@link Dtype#INT64} tensors. Tensors are immutable: no copy.
   */
  public final Map<String, Tensor> stateDict() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Slot slot : slots()) {
      out.put(slot.key, slot.current());
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * Copies parameters and persistent buffers from {@code stateDict}, as PyTorch's {@code load_state_dict}. Values
   * are converted to the dtype of what they load into (an I64 value into a float parameter, a float value into an
   * integer buffer), as PyTorch's {@code copy_} does.
   *
   * <p>Every problem is gathered into one {@link StateDictLoadException} worded like PyTorch's: missing keys and
   * unexpected keys (when {@code strict}) and size mismatches (always), each list in PyTorch's order. Unlike PyTorch,
   * a failed load changes nothing: a module is never left half loaded.
   *
   * @return the keys a non-strict load left out (both lists are empty after a strict load)
   */
  public final IncompatibleKeys loadStateDict(Map<String, ? extends Tensor> stateDict, boolean strict) {
    Objects.requireNonNull(stateDict, "stateDict");
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Map<Slot, Tensor> updates = new LinkedHashMap<>();
    for (Slot slot : slots()) {
      Tensor value = stateDict.get(slot.key);
      Tensor current = slot.current();
      if (value != null && current.dim() == 0 && value.dim() == 1 && value.numel() > 0) {
        // PyTorch's compatibility rule for checkpoints of PyTorch 0.3, which saved scalars as 1-D: the first value.
        value = value.dtype() == Dtype.INT64 ? Tensor.ofLong(value.getLong(0)) : Tensor.wrap(new float[] {value.get(0)});
      }
      if (value == null) {
        missing.add(slot.key);
      } else if (!current.sameShape(value)) {
        mismatched.add(slot.key);
        errors.add("size mismatch for " + slot.key + ": copying a param with shape " + value.shapeString()
            + " from checkpoint, the shape in current model is " + current.shapeString() + ".");
      } else if (slot.isBuffer) {
        updates.put(slot, plain(value, current.dtype()));
      } else {
        updates.put(slot, Parameter.wrap(value.toArray(), value.shape(), ((Parameter) current).requiresGrad()));
      }
    }
    List<String> unexpected = new ArrayList<>();
    collectUnexpected("", stateDict.keySet(), unexpected);
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
    Set<Module> changed = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Map.Entry<Slot, Tensor> update : updates.entrySet()) {
      Slot slot = update.getKey();
      if (slot.isBuffer) {
        slot.owner.buffers.put(slot.localName, update.getValue());
      } else {
        slot.owner.parameters.put(slot.localName, (Parameter) update.getValue());
      }
      changed.add(slot.owner);
    }
    changed.forEach(Module::onParametersChanged);
    return new IncompatibleKeys(missing, unexpected);
  }

  /**
   * The keys that name nothing in the tree, in PyTorch's order: each module, parent first, claims the keys under its
   * prefix whose next name part is neither one of its children nor (for the last part) one of its own entries.
   */
  private void collectUnexpected(String prefix, Set<String> keys, List<String> out) {
    for (String key : keys) {
      if (!key.startsWith(prefix)) {
        continue;
      }
      String rest = key.substring(prefix.length());
      int dot = rest.indexOf('.');
      boolean known = dot >= 0
          ? children.containsKey(rest.substring(0, dot))
          : parameters.containsKey(rest) || (buffers.containsKey(rest) && !nonPersistentBuffers.contains(rest));
      if (!known) {
        out.add(key);
      }
    }
    for (Map.Entry<String, Module> child : children.entrySet()) {
      child.getValue().collectUnexpected(prefix + child.getKey() + ".", keys, out);
    }
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

  /** PyTorch's repr: {@code Linear(in_features=4, out_features=3, bias=True)}, children indented below. */
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
    writeHooks(out, backwardPreHooks, "backward pre-hook");
    writeHooks(out, backwardHooks, "backward hook");
  }

  private void writeHooks(ObjectOutputStream out, HookList<?> hooks, String kind) throws IOException {
    HookList.Entry<?>[] entries = hooks.snapshot();
    for (HookList.Entry<?> entry : entries) {
      if (!(entry.hook instanceof Serializable)) {
        throw new NotSerializableException("The " + kind + " " + entry.hook.getClass().getName() + " registered on "
            + getName() + " is not Serializable, so the module cannot be sent to executors: make the hook class"
            + " implement java.io.Serializable (for a lambda, cast it to (" + hookType(kind) + " & Serializable)),"
            + " or remove it before broadcasting the module");
      }
    }
    out.writeInt(entries.length);
    for (HookList.Entry<?> entry : entries) {
      out.writeObject(entry.hook);
      out.writeBoolean(entry.alwaysCall);
    }
  }

  private static String hookType(String kind) {
    return switch (kind) {
      case "forward pre-hook" -> "ForwardPreHook";
      case "backward pre-hook" -> "BackwardPreHook";
      case "backward hook" -> "BackwardHook";
      default -> "ForwardHook";
    };
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    preHooks = new HookList<>();
    forwardHooks = new HookList<>();
    backwardPreHooks = new HookList<>();
    backwardHooks = new HookList<>();
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
    int backwardPreCount = in.readInt();
    for (int i = 0; i < backwardPreCount; i++) {
      BackwardPreHook hook = (BackwardPreHook) in.readObject();
      in.readBoolean();
      backwardPreHooks.add(hook, false, false);
    }
    int backwardCount = in.readInt();
    for (int i = 0; i < backwardCount; i++) {
      BackwardHook hook = (BackwardHook) in.readObject();
      in.readBoolean();
      backwardHooks.add(hook, false, false);
    }
  }
}
