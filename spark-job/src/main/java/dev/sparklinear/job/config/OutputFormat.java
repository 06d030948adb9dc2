package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** The Spark file format the job writes ({@code output.format}). */
public enum OutputFormat implements ConfigEnum {
  PARQUET,
  JSON;
}
