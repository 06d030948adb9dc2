package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** {@code fit.loss}: the loss a fit minimises, as torch's loss of the same name with {@code reduction='mean'}. */
public enum FitLoss implements ConfigEnum {
  /** {@code nn.MSELoss()}: the label is a number (one output) or an array of {@code out_features} numbers. */
  MSE,
  /** {@code nn.BCEWithLogitsLoss()}: the label is a number (one output) or an array of {@code out_features} numbers. */
  BCE_WITH_LOGITS,
  /** {@code nn.CrossEntropyLoss()}: the label is an integer class index in {@code [0, out_features)}. */
  CROSS_ENTROPY
}
