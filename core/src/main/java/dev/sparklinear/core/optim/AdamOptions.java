package dev.sparklinear.core.optim;

/**
 * The hyper-parameters of {@link Adam} and {@link AdamW}, with torch's defaults: {@code lr = 1e-3},
 * {@code betas = (0.9, 0.999)}, {@code eps = 1e-8}, {@code amsgrad = false}, {@code maximize = false}, and
 * {@code weight_decay} 0 for Adam, 1e-2 for AdamW. Made by {@link Adam#options()} or {@link AdamW#options()}.
 */
public final class AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay;
  boolean amsgrad;
  boolean maximize;

  AdamOptions(double weightDecay) {
    this.weightDecay = weightDecay;
  }

  public AdamOptions lr(double lr) {
    this.lr = lr;
    return this;
  }

  public AdamOptions betas(double beta1, double beta2) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    return this;
  }

  public AdamOptions eps(double eps) {
    this.eps = eps;
    return this;
  }

  public AdamOptions weightDecay(double weightDecay) {
    this.weightDecay = weightDecay;
    return this;
  }

  public AdamOptions amsgrad(boolean amsgrad) {
    this.amsgrad = amsgrad;
    return this;
  }

  public AdamOptions maximize(boolean maximize) {
    this.maximize = maximize;
    return this;
  }
}
