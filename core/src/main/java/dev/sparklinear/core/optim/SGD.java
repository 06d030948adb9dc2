package dev.sparklinear.core.optim;

import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Stochastic gradient descent, optionally with momentum, as torch's {@code torch.optim.SGD}: with gradient
 * {@code g} (negated when maximizing),
 *
 * <pre>
 *   g = g + weight_decay p                                  if weight_decay != 0
 *   b = g on the first step, else momentum b + (1 - dampening) g      if momentum != 0
 *   g = g + momentum b if nesterov, else b                  if momentum != 0
 *   p = p - lr g
 * </pre>
 *
 * <pre>{@code
 * SGD sgd = new SGD(model, SGD.options(0.1).momentum(0.9).nesterov(true));
 * }</pre>
 *
 * <p>State per parameter: {@code momentum_buffer} (none without momentum).
 */
public final class SGD extends Optimizer {
  private static final Set<String> GROUP_KEYS =
      Set.of("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize");

  /** SGD's hyper-parameters, with torch's defaults; {@code lr} has none and is given to {@link #options(double)}. */
  public static final class Options {
    private double lr;
    private double momentum;
    private double dampening;
    private double weightDecay;
    private boolean nesterov;
    private boolean maximize;

    private Options(double lr) {
      this.lr = lr;
    }

    public Options lr(double lr) {
      this.lr = lr;
      return this;
    }

    public Options momentum(double momentum) {
      this.momentum = momentum;
      return this;
    }

    public Options dampening(double dampening) {
      this.dampening = dampening;
      return this;
    }

    public Options weightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    public Options nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    public Options maximize(boolean maximize) {
      this.maximize = maximize;
      return this;
    }
  }

  private double lr;
  private double momentum;
  private double dampening;
  private double weightDecay;
  private boolean nesterov;
  private boolean maximize;
  /** Per parameter: whether it has stepped (torch's state entry, which holds a None buffer without momentum). */
  private boolean[] stepped;
  private float[][] momentumBuffer;

  /** Options with learning rate {@code lr} and torch's defaults for the rest. */
  public static Options options(double lr) {
    return new Options(lr);
  }

  public SGD(Module module, Options options) {
    super(module);
    setHyperParameters(options.lr, options.momentum, options.dampening, options.weightDecay, options.nesterov,
        options.maximize);
    stepped = new boolean[size()];
    momentumBuffer = new float[size()][];
  }

  private void setHyperParameters(
      double lr, double momentum, double dampening, double weightDecay, boolean nesterov, boolean maximize) {
    checkHyperParameters(lr, momentum, dampening, weightDecay, nesterov);
    this.lr = lr;
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    this.maximize = maximize;
  }

  /** Torch's checks and messages. */
  private static void checkHyperParameters(
      double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
    if (lr < 0.0) {
      throw new IllegalArgumentException("Invalid learning rate: " + lr);
    }
    if (momentum < 0.0) {
      throw new IllegalArgumentException("Invalid momentum value: " + momentum);
    }
    if (weightDecay < 0.0) {
      throw new IllegalArgumentException("Invalid weight_decay value: " + weightDecay);
    }
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
    }
  }

  @Override
  protected void update(int index, float[] param, float[] grad) {
    stepped[index] = true;
    float[] d = grad;
    if (maximize) {
      for (int j = 0; j < d.length; j++) {
        d[j] = -d[j];
      }
    }
    if (weightDecay != 0) {
      float decay = (float) weightDecay;
      for (int j = 0; j < d.length; j++) {
        d[j] = addScaled(d[j], decay, param[j]);
      }
    }
    if (momentum != 0) {
      float[] buffer = momentumBuffer[index];
      if (buffer == null) {
        buffer = d.clone();
        momentumBuffer[index] = buffer;
      } else {
        float mu = (float) momentum;
        float keep = (float) (1 - dampening);
        for (int j = 0; j < d.length; j++) {
          buffer[j] = addScaled(buffer[j] * mu, keep, d[j]);
        }
      }
      if (nesterov) {
        float mu = (float) momentum;
        for (int j = 0; j < d.length; j++) {
          d[j] = addScaled(d[j], mu, buffer[j]);
        }
      } else {
        d = buffer;
      }
    }
    float minusLr = (float) -lr;
    for (int j = 0; j < param.length; j++) {
      param[j] = addScaled(param[j], minusLr, d[j]);
    }
  }

  @Override
  protected Map<String, Object> hyperParameters() {
    Map<String, Object> group = new LinkedHashMap<>();
    group.put("lr", lr);
    group.put("momentum", momentum);
    group.put("dampening", dampening);
    group.put("weight_decay", weightDecay);
    group.put("nesterov", nesterov);
    group.put("maximize", maximize);
    group.put("foreach", null);
    group.put("differentiable", false);
    return group;
  }

  @Override
  protected Map<String, Tensor> state(int index) {
    if (!stepped[index]) {
      return null;
    }
    Map<String, Tensor> entries = new LinkedHashMap<>();
    if (momentumBuffer[index] != null) {
      entries.put("momentum_buffer", stateTensor(index, momentumBuffer[index]));
    }
    return entries;
  }

  @Override
  protected Runnable prepareLoad(Map<String, Object> group, Map<Integer, Map<String, Tensor>> state) {
    checkGroupKeys("SGD", group, GROUP_KEYS);
    double newLr = doubleOf(group, "lr");
    double newMomentum = doubleOf(group, "momentum");
    double newDampening = doubleOf(group, "dampening");
    double newWeightDecay = doubleOf(group, "weight_decay");
    boolean newNesterov = booleanOf(group, "nesterov");
    boolean newMaximize = booleanOf(group, "maximize");
    checkHyperParameters(newLr, newMomentum, newDampening, newWeightDecay, newNesterov);
    boolean[] newStepped = new boolean[size()];
    float[][] newBuffers = new float[size()][];
    state.forEach((index, entries) -> {
      checkStateKeys(index, entries, Set.of("momentum_buffer"));
      newStepped[index] = true;
      newBuffers[index] = stateValues(index, entries, "momentum_buffer");
    });
    return () -> {
      setHyperParameters(newLr, newMomentum, newDampening, newWeightDecay, newNesterov, newMaximize);
      stepped = newStepped;
      momentumBuffer = newBuffers;
    };
  }

  @Override
  public String toString() {
    return "SGD (lr: " + lr + ", momentum: " + momentum + ", dampening: " + dampening + ", weight_decay: "
        + weightDecay + ", nesterov: " + nesterov + ", maximize: " + maximize + ")";
  }
}
