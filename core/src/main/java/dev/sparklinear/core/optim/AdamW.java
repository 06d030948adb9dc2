package dev.sparklinear.core.optim;

import dev.sparklinear.core.nn.Module;
import java.util.Map;

/**
 * AdamW, as torch's {@code torch.optim.AdamW}: {@link Adam} with decoupled weight decay, which shrinks the
 * parameter before the step instead of adding to the gradient:
 *
 * <pre>
 *   p = p (1 - lr weight_decay)
 *   then Adam's step with weight_decay 0
 * </pre>
 *
 * <pre>{@code
 * AdamW adamw = new AdamW(model, AdamW.options().lr(1e-3).weightDecay(0.01));
 * }</pre>
 */
public final class AdamW extends AdaptiveMoments {

  /** Torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2. */
  public static AdamOptions options() {
    return new AdamOptions(1e-2);
  }

  public AdamW(Module module) {
    this(module, options());
  }

  public AdamW(Module module, AdamOptions options) {
    super("AdamW", true, module, options);
  }

  @Override
  protected Map<String, Object> hyperParameters() {
    return hyperParameters("lr", "betas", "eps", "weight_decay", "amsgrad", "foreach", "maximize", "capturable");
  }
}
