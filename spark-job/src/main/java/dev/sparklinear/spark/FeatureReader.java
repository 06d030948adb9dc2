package dev.sparklinear.spark;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * Copies one row's feature values, as float32, straight into a block's memory.
 *
 * <p>One implementation per input shape (numeric arrays, Spark ML vectors, numeric scalar columns); each reads the
 * row's internal representation in place (a bulk memory copy for {@code array<float>}, a conversion loop otherwise)
 * and creates no objects per row. The features are at ordinals {@code first .. first + k - 1} of the rows the job
 * hands in.
 */
abstract class FeatureReader implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * What went wrong with a row's features; null means the row is fine. The run summary and the quarantine's
   * {@code reason} column name it by its config spelling: {@code null-vector}, {@code wrong-width}, ...
   */
  enum Problem implements ConfigEnum {
    NULL_VECTOR,
    NULL_ELEMENT,
    WRONG_WIDTH,
    NON_FINITE
  }

  /** Whether a NaN or infinite feature makes a row invalid (a nan-guard pre-hook that fails asks for it). */
  boolean rejectNonFinite;

  /** Problem of the last {@link #read} call, with the width found for {@link Problem#WRONG_WIDTH}. */
  Problem problem;

  int foundWidth;

  /** The feature column(s) as errors name them: {@code column 'features'} or {@code columns [a, b]}. */
  String description;

  /** The element type of a feature array that column batches hand over in bulk ({@code float}, {@code double}). */
  DataType bulkElementType;

  /**
   * Writes {@code width} floats for {@code row} at {@code address}. Returns false, with {@link #problem} set, when the
   * row cannot give them.
   */
  abstract boolean read(InternalRow row, long address, int width);

  /**
   * {@link #read}, then, when {@link #rejectNonFinite} is set, a check that every value written is finite.
   */
  final boolean readChecked(InternalRow row, long address, int width) {
    if (!read(row, address, width)) {
      return false;
    }
    if (rejectNonFinite && !allFinite(address, width)) {
      problem = Problem.NON_FINITE;
      return false;
    }
    return true;
  }

  /** True when the {@code count} floats at {@code address} are all finite. */
  static boolean allFinite(long address, long count) {
    for (long i = 0; i < count; i++) {
      if (!Float.isFinite(Platform.getFloat(null, address + 4 * i))) {
        return false;
      }
    }
    return true;
  }

  /** The reader for the feature column of {@code schema}, or an error naming the column and its type. */
  static FeatureReader forColumn(StructType schema, String column, int ordinal) {
    FeatureReader reader = readerFor(schema, column, ordinal);
    reader.description = "column '" + column + "'";
    return reader;
  }

  private static FeatureReader readerFor(StructType schema, String column, int ordinal) {
    DataType type = schema.apply(column).dataType();
    if (type instanceof ArrayType array && NUMBERS.contains(array.elementType())) {
      return new ArrayReader(ordinal, (byte) NUMBERS.indexOf(array.elementType()));
    } else if (type.equals(SQLDataTypes.VectorType())) {
      return new VectorReader(ordinal);
    }
    throw new IllegalArgumentException(
        "Column '" + column + "' has type " + type.simpleString() + ", which is not a feature vector: use"
            + " an array of numbers (float, double or integer) or a Spark ML vector (or input.columns for numeric"
            + " scalar columns)");
  }

  /** The reader for a list of numeric scalar columns, starting at ordinal {@code first}. */
  static FeatureReader forScalarColumns(StructType schema, List<String> columns, int first) {
    byte[] kinds = new byte[columns.size()];
    for (int i = 0; i < kinds.length; i++) {
      StructField field = schema.apply(columns.get(i));
      kinds[i] = (byte) NUMBERS.indexOf(field.dataType());
      if (kinds[i] < 0) {
        throw new IllegalArgumentException("Column '" + field.name() + "' has type " + field.dataType().simpleString()
            + ", which is not numeric: input.columns takes float, double, int, bigint, smallint or tinyint columns");
      }
    }
    FeatureReader reader = new ScalarColumnsReader(first, kinds);
    reader.description = "columns " + columns;
    return reader;
  }

  /** The numeric types a feature can have, each read as its index here: {@link #FLOAT}, {@link #DOUBLE}, ... */
  private static final List<DataType> NUMBERS = List.of(DataTypes.FloatType, DataTypes.DoubleType,
      DataTypes.IntegerType, DataTypes.LongType, DataTypes.ShortType, DataTypes.ByteType);
  private static final byte FLOAT = 0;
  private static final byte DOUBLE = 1;
  private static final byte INT = 2;
  private static final byte LONG = 3;
  private static final byte SHORT = 4;

  /**
   * An array column of numbers: {@code array<float>} taken with one memory copy from Spark's own array bytes,
   * {@code array<double>} narrowed to float32 as PyTorch's {@code .float()} does (round to nearest), and arrays of
   * integers (JSON and CSV sources infer {@code array<bigint>} for whole numbers) converted element by element.
   */
  private static final class ArrayReader extends FeatureReader {
    private static final long serialVersionUID = 1L;
    private final int ordinal;
    private final byte kind;

    ArrayReader(int ordinal, byte kind) {
      this.ordinal = ordinal;
      this.kind = kind;
      this.bulkElementType = kind == FLOAT || kind == DOUBLE ? NUMBERS.get(kind) : null;
    }

    @Override
    boolean read(InternalRow row, long address, int width) {
      if (row.isNullAt(ordinal)) {
        problem = Problem.NULL_VECTOR;
        return false;
      }
      ArrayData array = row.getArray(ordinal);
      int n = array.numElements();
      if (n != width) {
        problem = Problem.WRONG_WIDTH;
        foundWidth = n;
        return false;
      }
      if (bulkElementType != null && array instanceof UnsafeArrayData unsafe && !UnsafeArrays.hasNull(unsafe)) {
        Object base = unsafe.getBaseObject();
        long offset = UnsafeArrays.dataOffset(unsafe);
        if (kind == FLOAT) {
          Platform.copyMemory(base, offset, null, address, 4L * n);
          return true;
        }
        for (int i = 0; i < n; i++) {
          Platform.putFloat(null, address + 4L * i, (float) Platform.getDouble(base, offset + 8L * i));
        }
        return true;
      }
      for (int i = 0; i < n; i++) {
        if (array.isNullAt(i)) {
          problem = Problem.NULL_ELEMENT;
          return false;
        }
        Platform.putFloat(null, address + 4L * i, switch (kind) {
          case FLOAT -> array.getFloat(i);
          case DOUBLE -> (float) array.getDouble(i);
          case INT -> array.getInt(i);
          case LONG -> array.getLong(i);
          case SHORT -> array.getShort(i);
          default -> array.getByte(i);
        });
      }
      return true;
    }
  }

  /**
   * Spark ML vectors, stored as struct(type: byte, size: int, indices: array<int>, values: array<double>) with type
   * 0 = sparse and 1 = dense.
   */
  private static final class VectorReader extends FeatureReader {
    private static final long serialVersionUID = 1L;
    private final int ordinal;

    VectorReader(int ordinal) {
      this.ordinal = ordinal;
    }

    @Override
    boolean read(InternalRow row, long address, int width) {
      if (row.isNullAt(ordinal)) {
        problem = Problem.NULL_VECTOR;
        return false;
      }
      InternalRow vector = row.getStruct(ordinal, 4);
      ArrayData values = vector.getArray(3);
      if (vector.getByte(0) == 1) {
        int n = values.numElements();
        if (n != width) {
          problem = Problem.WRONG_WIDTH;
          foundWidth = n;
          return false;
        }
        for (int i = 0; i < n; i++) {
          Platform.putFloat(null, address + 4L * i, (float) values.getDouble(i));
        }
        return true;
      }
      int size = vector.getInt(1);
      if (size != width) {
        problem = Problem.WRONG_WIDTH;
        foundWidth = size;
        return false;
      }
      Platform.setMemory(address, (byte) 0, 4L * width);
      ArrayData indices = vector.getArray(2);
      for (int i = 0, n = indices.numElements(); i < n; i++) {
        Platform.putFloat(null, address + 4L * indices.getInt(i), (float) values.getDouble(i));
      }
      return true;
    }
  }

  /** A list of numeric scalar columns, one feature each. */
  private static final class ScalarColumnsReader extends FeatureReader {
    private static final long serialVersionUID = 1L;
    private final int first;
    private final byte[] kinds;

    ScalarColumnsReader(int first, byte[] kinds) {
      this.first = first;
      this.kinds = kinds;
    }

    @Override
    boolean read(InternalRow row, long address, int width) {
      if (kinds.length != width) {
        problem = Problem.WRONG_WIDTH;
        foundWidth = kinds.length;
        return false;
      }
      for (int i = 0; i < kinds.length; i++) {
        int ordinal = first + i;
        if (row.isNullAt(ordinal)) {
          problem = Problem.NULL_ELEMENT;
          return false;
        }
        float value = switch (kinds[i]) {
          case FLOAT -> row.getFloat(ordinal);
          case DOUBLE -> (float) row.getDouble(ordinal);
          case INT -> row.getInt(ordinal);
          case LONG -> row.getLong(ordinal);
          case SHORT -> row.getShort(ordinal);
          default -> row.getByte(ordinal);
        };
        Platform.putFloat(null, address + 4L * i, value);
      }
      return true;
    }
  }
}
