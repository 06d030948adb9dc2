package dev.sparklinear.spark;

/** Who reads an {@code array<float>} feature column out of Parquet files ({@code input.parquet-reader}). */
public enum ParquetReaderKind implements ConfigEnum {
  /**
   * spark-linear's own page decoder for the feature column when the input is a plain Parquet file scan, Spark's
   * reader for the other columns and for every other input.
   */
  AUTO,
  /** Spark's vectorized reader for every column. */
  SPARK;
}
