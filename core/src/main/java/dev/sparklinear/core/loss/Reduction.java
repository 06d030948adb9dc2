package dev.sparklinear.core.loss;

import java.util.Locale;

/**
 * How a loss reduces its per-element values to one, as torch's {@code reduction} argument. Torch's {@code 'none'}
 * (one value per element) is not offered: a loss here returns one value.
 */
public enum Reduction {
  /** The sum divided by the count torch's mean divides by ({@link LossSum#totalWeight()}). */
  MEAN,
  /** The sum. */
  SUM;

  /** The reduction torch spells {@code name} ({@code "mean"} or {@code "sum"}). */
  public static Reduction of(String name) {
    if ("none".equals(name)) {
      throw new IllegalArgumentException(
          "none is not supported as a reduction here: a loss returns one value; use 'mean' or 'sum'");
    }
    for (Reduction reduction : values()) {
      if (reduction.torchName().equals(name)) {
        return reduction;
      }
    }
    throw new IllegalArgumentException(name + " is not a valid value for reduction"); // torch's message
  }

  /** Torch's spelling: {@code "mean"}, {@code "sum"}. */
  public String torchName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
