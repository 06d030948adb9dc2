/**
 * Writing Parquet fast: {@link dev.sparklinear.spark.parquet.ColumnarParquetWriter} writes the files Spark's Parquet
 * writer would, with float and float-array columns written a page at a time, committed through Spark's protocol.
 */
package dev.sparklinear.spark.parquet;
