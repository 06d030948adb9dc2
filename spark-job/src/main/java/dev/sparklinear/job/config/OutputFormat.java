package dev.sparklinear.job.config;

import java.util.Locale;

/** The Spark file format the job writes ({@code output.format}). */
public enum OutputFormat {
  PARQUET,
  JSON;

  /** The spelling used in config files, which is also the Spark source name. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
