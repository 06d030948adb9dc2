package dev.sparklinear.job.config;

import dev.sparklinear.spark.ConfigEnum;

/** Which writer writes Parquet output ({@code output.parquet-writer}). */
public enum ParquetWriterKind implements ConfigEnum {
  /**
   * spark-linear's {@code ColumnarParquetWriter}: float columns a page at a time; the same files Spark's writer
   * writes. Outputs with a kept column of a type it does not write go to Spark's writer instead.
   */
  COLUMNAR,
  /** Spark's own Parquet writer, value at a time. */
  SPARK;
}
