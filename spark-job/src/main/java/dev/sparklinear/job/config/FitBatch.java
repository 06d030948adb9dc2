package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** {@code fit.batch}: how many rows one optimizer step sees. */
public enum FitBatch implements ConfigEnum {
  /** One step per epoch, on the gradient of the mean loss over every row. */
  FULL
}
