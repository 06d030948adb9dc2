package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.UserDefinedType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarMap;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Spark column vectors that read a module's output block in place, so that turning the output back into rows is a
 * view, not a copy. The block is swapped in per block with {@link #show(FloatBlock)}; the vectors never own it.
 */
final class BlockColumns {
  static final DataType ARRAY_TYPE = DataTypes.createArrayType(DataTypes.FloatType, false);

  private final List<BlockColumn> columns = new ArrayList<>();
  private final List<StructField> fields = new ArrayList<>();

  private BlockColumns() {}

  /** The output columns for {@code layout}: one for array and vector, {@code width} for columns. */
  static BlockColumns of(OutputLayout layout, String name, int width) {
    BlockColumns out = new BlockColumns();
    switch (layout) {
      case ARRAY -> out.add(name, ARRAY_TYPE, new ArrayColumn(width, false));
      case VECTOR -> out.add(name, SQLDataTypes.VectorType(), new VectorColumn(width));
      case COLUMNS -> {
        for (int j = 0; j < width; j++) {
          out.add(name + "_" + j, DataTypes.FloatType, new DimensionColumn(width, j));
        }
      }
    }
    return out;
  }

  private void add(String name, DataType type, BlockColumn column) {
    fields.add(new StructField(name, type, false, Metadata.empty()));
    columns.add(column);
  }

  List<StructField> fields() {
    return fields;
  }

  List<? extends ColumnVector> vectors() {
    return columns;
  }

  /** Shows {@code block}: output row {@code r} of the block is read at batch row id {@code firstRowId + r}. */
  void show(FloatBlock block, int firstRowId) {
    for (BlockColumn column : columns) {
      column.show(block, firstRowId);
    }
  }

  /** A read-only, never-null view of the current block; getters that do not apply to its type fail loudly. */
  private abstract static class BlockColumn extends ColumnVector {
    FloatBlock block;
    /** Batch row id of the block's first row: columnar input shows several blocks of one batch in turn. */
    int firstRowId;

    BlockColumn(DataType type) {
      super(type instanceof UserDefinedType<?> udt ? udt.sqlType() : type);
    }

    void show(FloatBlock block, int firstRowId) {
      this.block = block;
      this.firstRowId = firstRowId;
    }

    float value(long flatIndex) {
      return block.buffer().getFloat(flatIndex * FloatBlock.BYTES);
    }

    @Override
    public void close() {}

    @Override
    public boolean hasNull() {
      return false;
    }

    @Override
    public int numNulls() {
      return 0;
    }

    @Override
    public boolean isNullAt(int rowId) {
      return false;
    }

    private IllegalStateException notThisType(String getter) {
      return new IllegalStateException(getter + " called on an output column of type " + dataType().simpleString());
    }

    @Override
    public boolean getBoolean(int rowId) {
      throw notThisType("getBoolean");
    }

    @Override
    public byte getByte(int rowId) {
      throw notThisType("getByte");
    }

    @Override
    public short getShort(int rowId) {
      throw notThisType("getShort");
    }

    @Override
    public int getInt(int rowId) {
      throw notThisType("getInt");
    }

    @Override
    public long getLong(int rowId) {
      throw notThisType("getLong");
    }

    @Override
    public float getFloat(int rowId) {
      throw notThisType("getFloat");
    }

    @Override
    public double getDouble(int rowId) {
      throw notThisType("getDouble");
    }

    @Override
    public ColumnarArray getArray(int rowId) {
      throw notThisType("getArray");
    }

    @Override
    public ColumnarMap getMap(int ordinal) {
      throw notThisType("getMap");
    }

    @Override
    public Decimal getDecimal(int rowId, int precision, int scale) {
      throw notThisType("getDecimal");
    }

    @Override
    public UTF8String getUTF8String(int rowId) {
      throw notThisType("getUTF8String");
    }

    @Override
    public byte[] getBinary(int rowId) {
      throw notThisType("getBinary");
    }

    @Override
    public ColumnVector getChild(int ordinal) {
      throw notThisType("getChild");
    }
  }

  /** All values of the block in row-major order, as float or (widened) double: the elements of the array columns. */
  private static final class FlatValues extends BlockColumn {
    FlatValues(boolean asDouble) {
      super(asDouble ? DataTypes.DoubleType : DataTypes.FloatType);
    }

    @Override
    public float getFloat(int index) {
      return value(index);
    }

    @Override
    public double getDouble(int index) {
      return value(index);
    }

    @Override
    public float[] getFloats(int index, int count) {
      float[] out = new float[count];
      int cols = block.cols();
      if (cols > 0 && index % cols == 0 && count % cols == 0) {
        block.readRows(index / cols, count / cols, out, 0);
      } else {
        for (int i = 0; i < count; i++) {
          out[i] = value(index + i);
        }
      }
      return out;
    }
  }

  /** {@code array<float>} (or {@code array<double>}) per row: row r is values {@code [r*width, (r+1)*width)}. */
  private static final class ArrayColumn extends BlockColumn {
    private final int width;
    private final FlatValues values;

    ArrayColumn(int width, boolean asDouble) {
      super(DataTypes.createArrayType(asDouble ? DataTypes.DoubleType : DataTypes.FloatType, false));
      this.width = width;
      this.values = new FlatValues(asDouble);
    }

    @Override
    void show(FloatBlock block, int firstRowId) {
      super.show(block, firstRowId);
      values.show(block, 0);
    }

    @Override
    public ColumnarArray getArray(int rowId) {
      return new ColumnarArray(values, (rowId - firstRowId) * width, width);
    }
  }

  /** Output dimension {@code j} as a float column. */
  private static final class DimensionColumn extends BlockColumn {
    private final int width;
    private final int j;

    DimensionColumn(int width, int j) {
      super(DataTypes.FloatType);
      this.width = width;
      this.j = j;
    }

    @Override
    public float getFloat(int rowId) {
      return value((long) (rowId - firstRowId) * width + j);
    }
  }

  /**
   * A dense Spark ML vector per row: struct(type = 1, size = null, indices = null, values = array<double>), the
   * layout of {@code VectorUDT}.
   */
  private static final class VectorColumn extends BlockColumn {
    private final ConstantByte type = new ConstantByte((byte) 1);
    private final NullColumn size = new NullColumn(DataTypes.IntegerType);
    private final NullColumn indices = new NullColumn(DataTypes.createArrayType(DataTypes.IntegerType, false));
    private final ArrayColumn values;

    VectorColumn(int width) {
      super(SQLDataTypes.VectorType());
      this.values = new ArrayColumn(width, true);
    }

    @Override
    void show(FloatBlock block, int firstRowId) {
      super.show(block, firstRowId);
      values.show(block, firstRowId);
    }

    @Override
    public ColumnVector getChild(int ordinal) {
      return switch (ordinal) {
        case 0 -> type;
        case 1 -> size;
        case 2 -> indices;
        case 3 -> values;
        default -> throw new IndexOutOfBoundsException("A vector struct has 4 fields, asked for " + ordinal);
      };
    }
  }

  private static final class ConstantByte extends BlockColumn {
    private final byte value;

    ConstantByte(byte value) {
      super(DataTypes.ByteType);
      this.value = value;
    }

    @Override
    public byte getByte(int rowId) {
      return value;
    }
  }

  private static final class NullColumn extends BlockColumn {
    NullColumn(DataType type) {
      super(type);
    }

    @Override
    public boolean hasNull() {
      return true;
    }

    @Override
    public boolean isNullAt(int rowId) {
      return true;
    }
  }
}
