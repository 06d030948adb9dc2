package dev.sparklinear.core.optim;

import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The base of the optimizers, after torch's {@code torch.optim.Optimizer}, over the parameters of one module in
 * {@link Module#namedParameters()} order (torch's {@code model.parameters()} order), as one parameter group.
 *
 * <pre>{@code
 * Adam adam = new Adam(model, Adam.options().lr(1e-3));
 * adam.zeroGrad();
 * ... a backward pass accumulates into each parameter's grad ...
 * adam.step();
 * OptimizerStateDict saved = adam.stateDict();    // later: new Adam(model, ...).loadStateDict(saved)
 * }</pre>
 *
 * <p>{@link #step()} updates every parameter that has a gradient and skips those without one (torch's
 * {@code p.grad is None}), which is how frozen parameters are left alone. The arithmetic is float32 and follows the
 * operations of torch's single-tensor step ({@code _single_tensor_sgd}, {@code _single_tensor_adam}) one by one,
 * hyper-parameters rounded to float32 where torch passes them as scalars, and {@code a + alpha * b} fused into one
 * multiply-add as torch's AVX2 CPU kernels compute it: the parameters equal those of torch 1.13 (an AVX2 build) bit for
 * bit. A torch build or version that rounds differently (no FMA, or torch 2's {@code lerp_} for Adam's first moment)
 * differs from them by float32 rounding, an ulp or so per step. The new values are given to the module through {@link Module#updateParameters}, which keeps the gradients: call
 * {@link #zeroGrad} before the next backward pass, as in torch.
 *
 * <p>An optimizer is driven by one thread: a distributed fit steps on the driver, after summing the partitions'
 * gradients into the parameters there.
 */
public abstract class Optimizer {
  private final Module module;
  private final List<String> names;
  private final List<int[]> shapes = new ArrayList<>();

  protected Optimizer(Module module) {
    this.module = Objects.requireNonNull(module, "module");
    this.names = List.copyOf(module.namedParameters().keySet());
    if (names.isEmpty()) {
      throw new IllegalArgumentException("optimizer got an empty parameter list"); // torch's message
    }
    module.namedParameters().values().forEach(p -> shapes.add(p.shape()));
  }

  /** The optimized parameters' dotted names; a parameter's index in the state dict is its position here. */
  public final List<String> parameterNames() {
    return names;
  }

  /** Performs one optimization step, as torch's {@code optimizer.step()}. */
  public final void step() {
    Map<String, Parameter> current = module.namedParameters();
    Map<String, Tensor> updated = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      Parameter parameter = current.get(names.get(i));
      if (parameter == null) {
        throw new IllegalStateException("Cannot step: parameter '" + names.get(i) + "' is no longer in "
            + module.getName() + "; make a new optimizer after changing the module's parameters");
      }
      Tensor grad = parameter.grad();
      if (grad == null) {
        continue;
      }
      float[] values = parameter.toArray();
      update(i, values, grad.toArray());
      updated.put(names.get(i), Tensor.wrap(values, parameter.shape()));
    }
    module.updateParameters(updated);
  }

  /**
   * Updates the values of parameter {@code index} in place from its gradient, creating its state on its first step.
   * {@code grad} is a copy the method may overwrite.
   */
  protected abstract void update(int index, float[] param, float[] grad);

  /** Clears the gradients of the optimized parameters, as torch's {@code optimizer.zero_grad(set_to_none)}. */
  public final void zeroGrad(boolean setToNone) {
    Map<String, Parameter> current = module.namedParameters();
    for (String name : names) {
      Parameter parameter = current.get(name);
      if (parameter != null) {
        parameter.zeroGrad(setToNone);
      }
    }
  }

  /** {@link #zeroGrad(boolean) zeroGrad(true)}, torch 2's default. */
  public final void zeroGrad() {
    zeroGrad(true);
  }

  /** The hyper-parameters under torch's names, in the order torch's {@code param_groups} lists them. */
  protected abstract Map<String, Object> hyperParameters();

  /** Parameter {@code index}'s state tensors under torch's names, or null before its first step. */
  protected abstract Map<String, Tensor> state(int index);

  /**
   * Checks a loaded group's hyper-parameters and every state entry (index to tensors), throwing
   * {@link IllegalArgumentException} on the first problem, and returns the action that installs them; nothing may
   * change before the action runs.
   */
  protected abstract Runnable prepareLoad(Map<String, Object> group, Map<Integer, Map<String, Tensor>> state);

  /** Torch's {@code state_dict()}: see {@link OptimizerStateDict}. Tensors are copies. */
  public final OptimizerStateDict stateDict() {
    Map<Integer, Map<String, Tensor>> state = new LinkedHashMap<>();
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      Map<String, Tensor> entries = state(i);
      if (entries != null) {
        state.put(i, entries);
      }
      indices.add(i);
    }
    Map<String, Object> group = new LinkedHashMap<>(hyperParameters());
    group.put("params", indices);
    group.put("param_names", names);
    return new OptimizerStateDict(state, List.of(group));
  }

  /**
   * Loads a state dict from {@link #stateDict()} or from torch (its hyper-parameters replace this optimizer's, as in
   * torch), checking first that it fits: one group, as many parameters, the same names when it has names, the
   * hyper-parameters of this kind of optimizer, and state tensors of the parameters' shapes. A state dict that does
   * not fit changes nothing.
   *
   * @throws IllegalArgumentException naming what does not fit, in torch's words where torch has them
   */
  public final void loadStateDict(OptimizerStateDict stateDict) {
    Objects.requireNonNull(stateDict, "stateDict");
    if (stateDict.paramGroups().size() != 1) {
      throw new IllegalArgumentException("loaded state dict has a different number of parameter groups");
    }
    Map<String, Object> group = new LinkedHashMap<>(stateDict.paramGroups().get(0));
    Object params = group.remove("params");
    if (!(params instanceof List<?> indices) || indices.size() != names.size()) {
      throw new IllegalArgumentException(
          "loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    }
    Object loadedNames = group.remove("param_names");
    if (loadedNames != null && !names.equals(loadedNames)) {
      throw new IllegalArgumentException("loaded state dict is for parameters " + loadedNames
          + ", this optimizer's are " + names);
    }
    // torch maps the saved indices onto this optimizer's parameters by position
    Map<Integer, Integer> position = new LinkedHashMap<>();
    for (int i = 0; i < indices.size(); i++) {
      if (!(indices.get(i) instanceof Integer index)) {
        throw new IllegalArgumentException("loaded state dict has a parameter index that is not an integer: "
            + indices.get(i));
      }
      position.put(index, i);
    }
    Map<Integer, Map<String, Tensor>> state = new LinkedHashMap<>();
    for (Map.Entry<Integer, Map<String, Tensor>> entry : stateDict.state().entrySet()) {
      Integer i = position.get(entry.getKey());
      if (i == null) {
        throw new IllegalArgumentException("loaded state dict has state for parameter " + entry.getKey()
            + ", which is not in its parameter group " + indices);
      }
      state.put(i, entry.getValue());
    }
    prepareLoad(group, state).run();
  }

  /** The shape of parameter {@code index}. */
  protected final int[] shape(int index) {
    return shapes.get(index).clone();
  }

  protected final String name(int index) {
    return names.get(index);
  }

  protected final int size() {
    return names.size();
  }

  // ------------------------------------------------------------------------------- helpers for the subclasses

  /**
   * Torch's {@code a.add(b, alpha=alpha)} on float32 values: {@code a + alpha * b} as one fused multiply-add, which is
   * what torch's CPU kernel computes (vectorised {@code fmadd}).
   */
  static float addScaled(float a, float alpha, float b) {
    return Math.fma(alpha, b, a);
  }

  /**
   * Checks a loaded group's keys: every one of {@code required} present, nothing else but torch's keys that do not
   * change a CPU step ({@code foreach}, {@code differentiable}, {@code capturable}, {@code fused}).
   */
  static void checkGroupKeys(String optimizer, Map<String, Object> group, Set<String> required) {
    Set<String> missing = new TreeSet<>(required);
    missing.removeAll(group.keySet());
    Set<String> unexpected = new TreeSet<>(group.keySet());
    unexpected.removeAll(required);
    unexpected.removeAll(Set.of("foreach", "differentiable", "capturable", "fused"));
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new IllegalArgumentException("loaded state dict's parameter group is not one of " + optimizer
          + (missing.isEmpty() ? "" : ": missing " + missing)
          + (unexpected.isEmpty() ? "" : (missing.isEmpty() ? ": " : ", ") + "unexpected " + unexpected)
          + "; was it saved by another optimizer?");
    }
  }

  static double doubleOf(Map<String, Object> group, String key) {
    if (!(group.get(key) instanceof Number number)) {
      throw new IllegalArgumentException("loaded state dict's " + key + " is not a number: " + group.get(key));
    }
    return number.doubleValue();
  }

  static boolean booleanOf(Map<String, Object> group, String key) {
    if (!(group.get(key) instanceof Boolean value)) {
      throw new IllegalArgumentException("loaded state dict's " + key + " is not a boolean: " + group.get(key));
    }
    return value;
  }

  /**
   * The values of state tensor {@code key} of parameter {@code index}, checked to be float32 of the parameter's
   * shape; null when absent.
   */
  final float[] stateValues(int index, Map<String, Tensor> entries, String key) {
    Tensor tensor = entries.get(key);
    if (tensor == null) {
      return null;
    }
    if (!Arrays.equals(tensor.shape(), shapes.get(index))) {
      throw new IllegalArgumentException("size mismatch for state " + index + " ('" + names.get(index) + "') "
          + key + ": copying a tensor with shape " + tensor.shapeString()
          + " from the state dict, the shape of the parameter is " + Tensor.formatShape(shapes.get(index)) + ".");
    }
    return tensor.toArray();
  }

  /** Throws when parameter {@code index}'s loaded state has keys other than {@code known}. */
  final void checkStateKeys(int index, Map<String, Tensor> entries, Set<String> known) {
    Set<String> unexpected = new TreeSet<>(entries.keySet());
    unexpected.removeAll(known);
    if (!unexpected.isEmpty()) {
      throw new IllegalArgumentException("loaded state dict has unexpected state " + unexpected + " for parameter "
          + index + " ('" + names.get(index) + "'); was it saved by another optimizer?");
    }
  }

  /** A float32 tensor of parameter {@code index}'s shape holding a copy of {@code values}. */
  final Tensor stateTensor(int index, float[] values) {
    return Tensor.wrap(values.clone(), shapes.get(index));
  }
}
