package dev.sparklinear.spark.parquet;

import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.column.ColumnWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;

/**
 * A passed-through column of a flat type, written value by value through Parquet's own column writer (which gives
 * it dictionary encoding, as Spark's writer would): such columns are few and narrow next to the computed vectors.
 */
final class KeptColumn {
  /** Writes one value of a row to a column writer, at the given definition level for "present". */
  private interface ValueWriter {
    void write(InternalRow row, int ordinal, ColumnWriter writer, int present);
  }

  private final int ordinal;
  private final ColumnDescriptor leaf;
  private final int present;
  private final ValueWriter values;
  private ColumnWriter writer;

  private KeptColumn(int ordinal, ColumnDescriptor leaf, ValueWriter values) {
    this.ordinal = ordinal;
    this.leaf = leaf;
    this.present = leaf.getMaxDefinitionLevel();
    this.values = values;
  }

  /** A writer for {@code type}, written to Parquet leaf {@code leaf}, or null when this writer does not handle it. */
  static KeptColumn of(int ordinal, DataType type, ColumnDescriptor leaf) {
    ValueWriter values = writerFor(type);
    return values == null ? null : new KeptColumn(ordinal, leaf, values);
  }

  /** Whether a column of {@code type} can be written by a {@code KeptColumn}. */
  static boolean supports(DataType type) {
    return writerFor(type) != null;
  }

  private static ValueWriter writerFor(DataType type) {
    if (type instanceof BooleanType) {
      return (row, o, w, d) -> w.write(row.getBoolean(o), 0, d);
    } else if (type instanceof ByteType) {
      return (row, o, w, d) -> w.write((int) row.getByte(o), 0, d);
    } else if (type instanceof ShortType) {
      return (row, o, w, d) -> w.write((int) row.getShort(o), 0, d);
    } else if (type instanceof IntegerType || type instanceof DateType) {
      return (row, o, w, d) -> w.write(row.getInt(o), 0, d);
    } else if (type instanceof LongType) {
      return (row, o, w, d) -> w.write(row.getLong(o), 0, d);
    } else if (type instanceof DoubleType) {
      return (row, o, w, d) -> w.write(row.getDouble(o), 0, d);
    } else if (type instanceof StringType) {
      // Reused: Parquet copies what it keeps (dictionary entries, statistics).
      return (row, o, w, d) -> w.write(Binary.fromReusedByteArray(row.getUTF8String(o).getBytes()), 0, d);
    } else if (type instanceof BinaryType) {
      return (row, o, w, d) -> w.write(Binary.fromReusedByteArray(row.getBinary(o)), 0, d);
    }
    return null;
  }

  /** Where the values of the current row group go: this column's writer of {@code store}. */
  void startRowGroup(ColumnWriteStore store) {
    this.writer = store.getColumnWriter(leaf);
  }

  void add(InternalRow row) {
    if (row.isNullAt(ordinal)) {
      writer.writeNull(0, 0);
    } else {
      values.write(row, ordinal, writer, present);
    }
  }
}
