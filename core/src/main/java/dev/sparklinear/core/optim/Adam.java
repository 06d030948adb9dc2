package dev.sparklinear.core.optim;

import dev.sparklinear.core.nn.Module;
import java.util.Map;

/**
 * Adam, as torch's {@code torch.optim.Adam}: with gradient {@code g} (negated when maximizing) at step {@code t},
 *
 * <pre>
 *   g = g + weight_decay p                  (L2 penalty in the gradient; see {@link AdamW} for decoupled decay)
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   v_max = max(v_max, v)                    with amsgrad, which then uses v_max for v below
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * with the bias corrections in double and the rest in float32, in the order of torch's {@code _single_tensor_adam}.
 *
 * <pre>{@code
 * Adam adam = new Adam(model, Adam.options().lr(1e-3).betas(0.9, 0.999));
 * }</pre>
 *
 * <p>State per parameter: {@code step} (a float32 scalar, as torch), {@code exp_avg}, {@code exp_avg_sq},
 * {@code max_exp_avg_sq} (with amsgrad).
 */
public final class Adam extends AdaptiveMoments {

  /** Torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0. */
  public static AdamOptions options() {
    return new AdamOptions(0);
  }

  public Adam(Module module) {
    this(module, options());
  }

  public Adam(Module module, AdamOptions options) {
    super("Adam", false, module, options);
  }

  @Override
  protected Map<String, Object> hyperParameters() {
    return hyperParameters("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable",
        "differentiable", "fused");
  }
}
