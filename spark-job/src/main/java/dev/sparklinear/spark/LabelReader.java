package dev.sparklinear.spark;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Reads one row's label for a fit: {@code width} float targets (a number, or an array of numbers, for
 * {@code mse} and {@code bce-with-logits}), or one class index in {@code [0, classes)} ({@code cross-entropy}), as
 * torch's losses take them. A row whose label is null, holds a null or NaN, has another width or names a class out of
 * range is refused with its {@link Problem}, which the invalid-row policy then handles as for features. A column of a
 * type that cannot hold such labels is refused once, when the reader is made.
 */
public final class LabelReader implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What went wrong with a row's label. The run summary and the quarantine's {@code reason} column spell it. */
  public enum Problem implements ConfigEnum {
    NULL_LABEL,
    LABEL_WRONG_WIDTH,
    NON_FINITE_LABEL,
    LABEL_OUT_OF_RANGE
  }

  private static final List<DataType> INTEGERS = List.of(DataTypes.LongType, DataTypes.IntegerType,
      DataTypes.ShortType, DataTypes.ByteType);
  private static final List<DataType> NUMBERS = List.of(DataTypes.FloatType, DataTypes.DoubleType,
      DataTypes.LongType, DataTypes.IntegerType, DataTypes.ShortType, DataTypes.ByteType);

  private final String column;
  private final int ordinal;
  private final DataType elementType;
  private final boolean array;
  private final int width;
  private final int classes;

  /** Problem of the last read, with the width or the class index found. */
  Problem problem;
  int foundWidth;
  long foundClass;

  private LabelReader(String column, int ordinal, DataType elementType, boolean array, int width, int classes) {
    this.column = column;
    this.ordinal = ordinal;
    this.elementType = elementType;
    this.array = array;
    this.width = width;
    this.classes = classes;
  }

  /**
   * A reader of {@code width} float targets per row from {@code column} of {@code schema}, found at {@code ordinal}
   * of the rows it is given.
   *
   * @throws IllegalArgumentException when the column does not exist or cannot hold such targets
   */
  public static LabelReader targets(StructType schema, String column, int ordinal, int width, String loss) {
    DataType type = typeOf(schema, column);
    if (NUMBERS.contains(type)) {
      if (width != 1) {
        throw new IllegalArgumentException("Label column '" + column + "' holds one number per row, but the module"
            + " has " + width + " outputs: " + loss + " needs a target of the output's size, an array of " + width
            + " numbers per row (torch: Target size ([N]) must be the same as input size ([N, " + width + "]))."
            + " Give an array label column, or a module with one output.");
      }
      return new LabelReader(column, ordinal, type, false, 1, 0);
    }
    if (type instanceof ArrayType arrayType && NUMBERS.contains(arrayType.elementType())) {
      return new LabelReader(column, ordinal, arrayType.elementType(), true, width, 0);
    }
    throw new IllegalArgumentException("Label column '" + column + "' has type " + type.simpleString() + ", which "
        + loss + " cannot take: give a number (for a module with one output) or an array of " + width
        + " numbers per row (fit.label-column).");
  }

  /**
   * A reader of class indices in {@code [0, classes)} from {@code column}, an integer column, as torch's
   * {@code cross_entropy} takes int64 targets.
   *
   * @throws IllegalArgumentException when the column does not exist or is not of an integer type
   */
  public static LabelReader classIndices(StructType schema, String column, int ordinal, int classes) {
    DataType type = typeOf(schema, column);
    if (!INTEGERS.contains(type)) {
      String torchType = type == DataTypes.FloatType ? "Float" : type == DataTypes.DoubleType ? "Double"
          : type.simpleString();
      throw new IllegalArgumentException("Label column '" + column + "' has type " + type.simpleString()
          + ", but cross-entropy takes a class index per row (torch: expected scalar type Long but found "
          + torchType + "). Give an integer column of class indices in [0, " + classes + ") (fit.label-column).");
    }
    return new LabelReader(column, ordinal, type, false, 1, classes);
  }

  private static DataType typeOf(StructType schema, String column) {
    if (!List.of(schema.fieldNames()).contains(column)) {
      throw new IllegalArgumentException("The label column '" + column + "' does not exist (fit.label-column)."
          + " Available columns: " + List.of(schema.fieldNames()));
    }
    return schema.apply(column).dataType();
  }

  /** Whether the labels are class indices (read with {@link #readClass}) rather than float targets. */
  public boolean classIndices() {
    return classes > 0;
  }

  /** The number of float targets per row; 1 for class indices. */
  public int width() {
    return width;
  }

  /** Reads {@code row}'s float targets into {@code targets} from {@code offset} on; false, with a problem, if refused. */
  boolean read(InternalRow row, float[] targets, int offset) {
    if (row.isNullAt(ordinal)) {
      problem = Problem.NULL_LABEL;
      return false;
    }
    if (!array) {
      float value = (float) number(row, ordinal, elementType);
      return store(value, targets, offset);
    }
    ArrayData values = row.getArray(ordinal);
    if (values.numElements() != width) {
      problem = Problem.LABEL_WRONG_WIDTH;
      foundWidth = values.numElements();
      return false;
    }
    for (int i = 0; i < width; i++) {
      if (values.isNullAt(i)) {
        problem = Problem.NULL_LABEL;
        return false;
      }
      if (!store((float) element(values, i), targets, offset + i)) {
        return false;
      }
    }
    return true;
  }

  private boolean store(float value, float[] targets, int offset) {
    if (!Float.isFinite(value)) {
      problem = Problem.NON_FINITE_LABEL;
      return false;
    }
    targets[offset] = value;
    return true;
  }

  /** Reads {@code row}'s class index into {@code targets[index]}; false, with a problem, if refused. */
  boolean readClass(InternalRow row, long[] targets, int index) {
    if (row.isNullAt(ordinal)) {
      problem = Problem.NULL_LABEL;
      return false;
    }
    long value = (long) number(row, ordinal, elementType);
    if (value < 0 || value >= classes) {
      problem = Problem.LABEL_OUT_OF_RANGE;
      foundClass = value;
      return false;
    }
    targets[index] = value;
    return true;
  }

  /** Whether {@code row}'s label would be read; sets {@link #problem} when not. */
  boolean check(InternalRow row) {
    return classIndices() ? readClass(row, new long[1], 0) : read(row, new float[width], 0);
  }

  /** Why the last row was refused, for an error message: {@code label column 'y' is null}. */
  String reason() {
    String where = "label column '" + column + "'";
    return switch (problem) {
      case NULL_LABEL -> where + " is null or holds a null";
      case LABEL_WRONG_WIDTH -> where + " has " + foundWidth + " values, expected out_features=" + width
          + " (Target size ([1, " + foundWidth + "]) must be the same as input size ([1, " + width + "]))";
      case NON_FINITE_LABEL -> where + " holds NaN or infinity";
      case LABEL_OUT_OF_RANGE -> where + " holds class index " + foundClass + " for a module of " + classes
          + " outputs (Target " + foundClass + " is out of bounds.)";
    };
  }

  private static double number(InternalRow row, int ordinal, DataType type) {
    if (type == DataTypes.FloatType) {
      return row.getFloat(ordinal);
    } else if (type == DataTypes.DoubleType) {
      return row.getDouble(ordinal);
    } else if (type == DataTypes.LongType) {
      return row.getLong(ordinal);
    } else if (type == DataTypes.IntegerType) {
      return row.getInt(ordinal);
    } else if (type == DataTypes.ShortType) {
      return row.getShort(ordinal);
    }
    return row.getByte(ordinal);
  }

  private double element(ArrayData values, int i) {
    if (elementType == DataTypes.FloatType) {
      return values.getFloat(i);
    } else if (elementType == DataTypes.DoubleType) {
      return values.getDouble(i);
    } else if (elementType == DataTypes.LongType) {
      return values.getLong(i);
    } else if (elementType == DataTypes.IntegerType) {
      return values.getInt(i);
    } else if (elementType == DataTypes.ShortType) {
      return values.getShort(i);
    }
    return values.getByte(i);
  }
}
