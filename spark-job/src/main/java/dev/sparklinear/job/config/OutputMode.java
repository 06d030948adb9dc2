package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** What the job does when {@code output.path} already exists ({@code output.mode}); Spark's save modes. */
public enum OutputMode implements ConfigEnum {
  /** Fail, leaving the existing output untouched. */
  ERRORIFEXISTS,
  /** Replace the existing output. */
  OVERWRITE;
}
