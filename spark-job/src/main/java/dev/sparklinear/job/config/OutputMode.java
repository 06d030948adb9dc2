package dev.sparklinear.job.config;

import java.util.Locale;

/** What the job does when {@code output.path} already exists ({@code output.mode}); Spark's save modes. */
public enum OutputMode {
  /** Fail, leaving the existing output untouched. */
  ERRORIFEXISTS,
  /** Replace the existing output. */
  OVERWRITE;

  /** The spelling used in config files, which is also Spark's save-mode name. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
