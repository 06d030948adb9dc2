package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * {@code fit.optimizer}: one of torch's optimizers with its arguments in kebab case, e.g. {@code {type: sgd, lr: 0.05,
 * momentum: 0.9}}. An argument left out takes torch's default (SGD's {@code lr} has none and is required); the fit
 * checks the values with torch's own checks and words.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = OptimizerConfig.Sgd.class, name = "sgd"),
    @JsonSubTypes.Type(value = OptimizerConfig.Adam.class, name = "adam"),
    @JsonSubTypes.Type(value = OptimizerConfig.AdamW.class, name = "adamw")})
public sealed interface OptimizerConfig extends TypedEntry {
  /** What a value must be, for messages and the docs. */
  String EXPECT = "a map with type sgd, adam or adamw and torch's arguments, e.g. {type: sgd, lr: 0.05, momentum:"
      + " 0.9}, {type: adam, lr: 0.001, betas: [0.9, 0.999], eps: 1.0e-8, weight-decay: 0.0} or {type: adamw, lr:"
      + " 0.001, weight-decay: 0.01}";

  /** The learning rate. */
  Double lr();

  /** {@code torch.optim.SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False)}. */
  record Sgd(Double lr, Double momentum, Double dampening, Double weightDecay, Boolean nesterov)
      implements OptimizerConfig {
    public Sgd {
      momentum = momentum == null ? 0.0 : momentum;
      dampening = dampening == null ? 0.0 : dampening;
      weightDecay = weightDecay == null ? 0.0 : weightDecay;
      nesterov = nesterov != null && nesterov;
    }
  }

  /** {@code torch.optim.Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False)}. */
  record Adam(Double lr, List<Double> betas, Double eps, Double weightDecay, Boolean amsgrad)
      implements OptimizerConfig {
    public Adam {
      lr = lr == null ? 1e-3 : lr;
      betas = betas == null ? List.of(0.9, 0.999) : List.copyOf(betas);
      eps = eps == null ? 1e-8 : eps;
      weightDecay = weightDecay == null ? 0.0 : weightDecay;
      amsgrad = amsgrad != null && amsgrad;
    }
  }

  /** {@code torch.optim.AdamW(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)}. */
  record AdamW(Double lr, List<Double> betas, Double eps, Double weightDecay, Boolean amsgrad)
      implements OptimizerConfig {
    public AdamW {
      lr = lr == null ? 1e-3 : lr;
      betas = betas == null ? List.of(0.9, 0.999) : List.copyOf(betas);
      eps = eps == null ? 1e-8 : eps;
      weightDecay = weightDecay == null ? 0.01 : weightDecay;
      amsgrad = amsgrad != null && amsgrad;
    }
  }
}
