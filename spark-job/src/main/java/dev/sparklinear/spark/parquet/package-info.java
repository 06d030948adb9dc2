/**
 * Parquet fast: {@link dev.sparklinear.spark.parquet.ColumnarParquetWriter} writes the files Spark's Parquet writer
 * would, with float and float-array columns written a page at a time, committed through Spark's protocol;
 * {@link dev.sparklinear.spark.parquet.FloatListReader} reads a float-array column a page at a time.
 */
package dev.sparklinear.spark.parquet;
