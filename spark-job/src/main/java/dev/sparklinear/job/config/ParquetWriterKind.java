package dev.sparklinear.job.config;

import java.util.Locale;

/** Which writer writes Parquet output ({@code output.parquet-writer}). */
public enum ParquetWriterKind {
  /**
   * spark-linear's {@code ColumnarParquetWriter}: float columns a page at a time; the same files Spark's writer
   * writes. Outputs with a kept column of a type it does not write go to Spark's writer instead.
   */
  COLUMNAR,
  /** Spark's own Parquet writer, value at a time. */
  SPARK;

  /** The spelling used in config files. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
