package dev.sparklinear.core.optim;

import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link Adam} and {@link AdamW} share: the moment estimates, the bias corrections and the state; they differ in
 * where the weight decay goes (into the gradient, or straight onto the parameter) and in the keys torch gives their
 * parameter groups.
 */
abstract class AdaptiveMoments extends Optimizer {
  private static final Set<String> GROUP_KEYS = Set.of("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize");

  private final String name;
  private final boolean decoupledWeightDecay;
  private double lr;
  private double beta1;
  private double beta2;
  private double eps;
  private double weightDecay;
  private boolean amsgrad;
  private boolean maximize;
  /** Per parameter: the step count as torch keeps it (a float32 tensor), and the moments; null before a step. */
  private float[] steps;
  private float[][] expAvg;
  private float[][] expAvgSq;
  private float[][] maxExpAvgSq;

  AdaptiveMoments(String name, boolean decoupledWeightDecay, Module module, AdamOptions options) {
    super(module);
    this.name = name;
    this.decoupledWeightDecay = decoupledWeightDecay;
    setHyperParameters(options.lr, options.beta1, options.beta2, options.eps, options.weightDecay, options.amsgrad,
        options.maximize);
    steps = new float[size()];
    expAvg = new float[size()][];
    expAvgSq = new float[size()][];
    maxExpAvgSq = new float[size()][];
  }

  private void setHyperParameters(double lr, double beta1, double beta2, double eps, double weightDecay,
      boolean amsgrad, boolean maximize) {
    checkHyperParameters(lr, beta1, beta2, eps, weightDecay);
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.amsgrad = amsgrad;
    this.maximize = maximize;
  }

  /** Torch's checks and messages. */
  private static void checkHyperParameters(double lr, double beta1, double beta2, double eps, double weightDecay) {
    if (!(0.0 <= lr)) {
      throw new IllegalArgumentException("Invalid learning rate: " + lr);
    }
    if (!(0.0 <= eps)) {
      throw new IllegalArgumentException("Invalid epsilon value: " + eps);
    }
    if (!(0.0 <= beta1 && beta1 < 1.0)) {
      throw new IllegalArgumentException("Invalid beta parameter at index 0: " + beta1);
    }
    if (!(0.0 <= beta2 && beta2 < 1.0)) {
      throw new IllegalArgumentException("Invalid beta parameter at index 1: " + beta2);
    }
    if (!(0.0 <= weightDecay)) {
      throw new IllegalArgumentException("Invalid weight_decay value: " + weightDecay);
    }
  }

  @Override
  protected final void update(int index, float[] param, float[] grad) {
    if (expAvg[index] == null) {
      expAvg[index] = new float[param.length];
      expAvgSq[index] = new float[param.length];
      if (amsgrad) {
        maxExpAvgSq[index] = new float[param.length];
      }
    }
    float[] m = expAvg[index];
    float[] v = expAvgSq[index];
    steps[index] += 1;
    if (maximize) {
      for (int j = 0; j < grad.length; j++) {
        grad[j] = -grad[j];
      }
    }
    if (decoupledWeightDecay) {
      float shrink = (float) (1 - lr * weightDecay);
      for (int j = 0; j < param.length; j++) {
        param[j] *= shrink;
      }
    } else if (weightDecay != 0) {
      float decay = (float) weightDecay;
      for (int j = 0; j < grad.length; j++) {
        grad[j] = addScaled(grad[j], decay, param[j]);
      }
    }
    float b1 = (float) beta1;
    float oneMinusB1 = (float) (1 - beta1);
    float b2 = (float) beta2;
    float oneMinusB2 = (float) (1 - beta2);
    for (int j = 0; j < grad.length; j++) {
      m[j] = addScaled(m[j] * b1, oneMinusB1, grad[j]);
      // addcmul_(grad, grad, value): self + value * grad * grad
      v[j] = Math.fma(oneMinusB2 * grad[j], grad[j], v[j] * b2);
    }
    // The bias corrections are Python floats in torch: double, from the step count read back with .item()
    double step = steps[index];
    double biasCorrection1 = 1 - Math.pow(beta1, step);
    double biasCorrection2 = 1 - Math.pow(beta2, step);
    double stepSize = lr / biasCorrection1;
    float biasCorrection2Sqrt = (float) Math.sqrt(biasCorrection2);
    float epsilon = (float) eps;
    float minusStepSize = (float) -stepSize;
    float[] second = v;
    if (amsgrad) {
      float[] max = maxExpAvgSq[index];
      for (int j = 0; j < max.length; j++) {
        max[j] = Math.max(max[j], v[j]);
      }
      second = max;
    }
    for (int j = 0; j < param.length; j++) {
      float denom = (float) Math.sqrt(second[j]) / biasCorrection2Sqrt + epsilon;
      // addcdiv_(exp_avg, denom, value=-step_size): self + value * exp_avg / denom
      param[j] = param[j] + minusStepSize * m[j] / denom;
    }
  }

  /** The group's hyper-parameters; subclasses order them as torch does. */
  final Map<String, Object> hyperParameter(String key) {
    Map<String, Object> one = new LinkedHashMap<>();
    switch (key) {
      case "lr" -> one.put(key, lr);
      case "betas" -> one.put(key, List.of(beta1, beta2));
      case "eps" -> one.put(key, eps);
      case "weight_decay" -> one.put(key, weightDecay);
      case "amsgrad" -> one.put(key, amsgrad);
      case "maximize" -> one.put(key, maximize);
      case "foreach" -> one.put(key, null);
      case "capturable", "differentiable", "fused" -> one.put(key, false);
      default -> throw new IllegalArgumentException(key);
    }
    return one;
  }

  /** The hyper-parameters in the order of {@code keys}, torch's order for the subclass. */
  final Map<String, Object> hyperParameters(String... keys) {
    Map<String, Object> group = new LinkedHashMap<>();
    for (String key : keys) {
      group.putAll(hyperParameter(key));
    }
    return group;
  }

  @Override
  protected final Map<String, Tensor> state(int index) {
    if (expAvg[index] == null) {
      return null;
    }
    Map<String, Tensor> entries = new LinkedHashMap<>();
    entries.put("step", Tensor.wrap(new float[] {steps[index]}));
    entries.put("exp_avg", stateTensor(index, expAvg[index]));
    entries.put("exp_avg_sq", stateTensor(index, expAvgSq[index]));
    if (maxExpAvgSq[index] != null) {
      entries.put("max_exp_avg_sq", stateTensor(index, maxExpAvgSq[index]));
    }
    return entries;
  }

  @Override
  protected final Runnable prepareLoad(Map<String, Object> group, Map<Integer, Map<String, Tensor>> state) {
    checkGroupKeys(name, group, GROUP_KEYS);
    double newLr = doubleOf(group, "lr");
    if (!(group.get("betas") instanceof List<?> betas && betas.size() == 2
        && betas.get(0) instanceof Number newBeta1 && betas.get(1) instanceof Number newBeta2)) {
      throw new IllegalArgumentException("loaded state dict's betas is not a pair of numbers: " + group.get("betas"));
    }
    double newEps = doubleOf(group, "eps");
    double newWeightDecay = doubleOf(group, "weight_decay");
    boolean newAmsgrad = booleanOf(group, "amsgrad");
    boolean newMaximize = booleanOf(group, "maximize");
    checkHyperParameters(newLr, newBeta1.doubleValue(), newBeta2.doubleValue(), newEps, newWeightDecay);
    float[] newSteps = new float[size()];
    float[][] newExpAvg = new float[size()][];
    float[][] newExpAvgSq = new float[size()][];
    float[][] newMaxExpAvgSq = new float[size()][];
    state.forEach((index, entries) -> {
      checkStateKeys(index, entries, Set.of("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"));
      Tensor step = entries.get("step");
      newExpAvg[index] = stateValues(index, entries, "exp_avg");
      newExpAvgSq[index] = stateValues(index, entries, "exp_avg_sq");
      newMaxExpAvgSq[index] = stateValues(index, entries, "max_exp_avg_sq");
      if (step == null || step.numel() != 1 || newExpAvg[index] == null || newExpAvgSq[index] == null
          || (newAmsgrad && newMaxExpAvgSq[index] == null)) {
        throw new IllegalArgumentException("loaded state dict's state for parameter " + index + " ('" + name(index)
            + "') lacks " + (newAmsgrad ? "step, exp_avg, exp_avg_sq or max_exp_avg_sq" : "step, exp_avg or exp_avg_sq")
            + " (a one-value step); has " + entries.keySet());
      }
      newSteps[index] = step.dtype() == Dtype.INT64 ? step.getLong(0) : step.get(0);
    });
    return () -> {
      setHyperParameters(newLr, newBeta1.doubleValue(), newBeta2.doubleValue(), newEps, newWeightDecay, newAmsgrad,
          newMaximize);
      steps = newSteps;
      expAvg = newExpAvg;
      expAvgSq = newExpAvgSq;
      maxExpAvgSq = newMaxExpAvgSq;
    };
  }

  @Override
  public String toString() {
    return name + " (lr: " + lr + ", betas: (" + beta1 + ", " + beta2 + "), eps: " + eps + ", weight_decay: "
        + weightDecay + ", amsgrad: " + amsgrad + ", maximize: " + maximize + ")";
  }
}
