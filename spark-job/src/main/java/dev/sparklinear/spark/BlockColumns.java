package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.execution.vectorized.ConstantColumnVector;
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
 * Which block row a row id shows is the partition's {@link BlockRowMap}.
 */
final class BlockColumns {
  static final DataType ARRAY_TYPE = DataTypes.createArrayType(DataTypes.FloatType, false);

  private final List<BlockColumn> columns = new ArrayList<>();
  private final List<StructField> fields = new ArrayList<>();
  private final boolean nullable;

  private BlockColumns(boolean nullable) {
    this.nullable = nullable;
  }

  /**
   * The output columns for {@code layout}: one for array and vector, {@code width} for columns, reading the block row
   * that {@code rows} gives for each row id. With {@code nullable}, a row can have a null output (invalid-rows: null).
   */
  static BlockColumns of(OutputLayout layout, String name, int width, boolean nullable, BlockRowMap rows) {
    BlockColumns out = new BlockColumns(nullable);
    switch (layout) {
      case ARRAY -> out.add(name, ARRAY_TYPE, new ArrayColumn(rows, width, false));
      case VECTOR -> out.add(name, SQLDataTypes.VectorType(), new VectorColumn(rows, width));
      case COLUMNS -> {
        for (int j = 0; j < width; j++) {
          out.add(name + "_" + j, DataTypes.FloatType, new DimensionColumn(rows, width, j));
        }
      }
    }
    return out;
  }

  private void add(String name, DataType type, BlockColumn column) {
    fields.add(new StructField(name, type, nullable, Metadata.empty()));
    columns.add(column);
  }

  List<StructField> fields() {
    return fields;
  }

  List<? extends ColumnVector> vectors() {
    return columns;
  }

  /** Shows {@code block}, through the row map the columns were made with. */
  void show(FloatBlock block) {
    for (BlockColumn column : columns) {
      column.show(block);
    }
  }

  /** A read-only view of the current block; getters that do not apply to its type fail loudly. */
  private abstract static class BlockColumn extends ColumnVector {
    final BlockRowMap rows;
    FloatBlock block;

    BlockColumn(BlockRowMap rows, DataType type) {
      super(type instanceof UserDefinedType<?> udt ? udt.sqlType() : type);
      this.rows = rows;
    }

    void show(FloatBlock block) {
      this.block = block;
    }

    float value(long flatIndex) {
      return block.buffer().getFloat(flatIndex * FloatBlock.BYTES);
    }

    @Override
    public void close() {}

    @Override
    public boolean hasNull() {
      return rows.mapped;
    }

    @Override
    public int numNulls() {
      int nulls = 0;
      for (int r = 0; rows.mapped && r < rows.rows; r++) {
        nulls += rows.blockRowOf[r] < 0 ? 1 : 0;
      }
      return nulls;
    }

    @Override
    public boolean isNullAt(int rowId) {
      return rows.isNull(rowId);
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

  /** For columns inside a row's value (array elements, struct fields): they have no null rows of their own. */
  private static final BlockRowMap NO_NULLS = new BlockRowMap(0);

  /** All values of the block in row-major order, as float or (widened) double: the elements of the array columns. */
  private static final class FlatValues extends BlockColumn {
    FlatValues(boolean asDouble) {
      super(NO_NULLS, asDouble ? DataTypes.DoubleType : DataTypes.FloatType);
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

  /** {@code array<float>} (or {@code array<double>}) per row: block row r is values {@code [r*width, (r+1)*width)}. */
  private static final class ArrayColumn extends BlockColumn {
    private final int width;
    private final FlatValues values;

    ArrayColumn(BlockRowMap rows, int width, boolean asDouble) {
      super(rows, DataTypes.createArrayType(asDouble ? DataTypes.DoubleType : DataTypes.FloatType, false));
      this.width = width;
      this.values = new FlatValues(asDouble);
    }

    @Override
    void show(FloatBlock block) {
      super.show(block);
      values.show(block);
    }

    @Override
    public ColumnarArray getArray(int rowId) {
      return new ColumnarArray(values, rows.blockRow(rowId) * width, width);
    }
  }

  /** Output dimension {@code j} as a float column. */
  private static final class DimensionColumn extends BlockColumn {
    private final int width;
    private final int j;

    DimensionColumn(BlockRowMap rows, int width, int j) {
      super(rows, DataTypes.FloatType);
      this.width = width;
      this.j = j;
    }

    @Override
    public float getFloat(int rowId) {
      return value((long) rows.blockRow(rowId) * width + j);
    }
  }

  /**
   * A dense Spark ML vector per row: struct(type = 1, size = null, indices = null, values = array<double>), the
   * layout of {@code VectorUDT}.
   */
  private static final class VectorColumn extends BlockColumn {
    // Constants answer for any row id; the row count they are made with is only what numNulls() reports.
    private final ConstantColumnVector type = new ConstantColumnVector(1, DataTypes.ByteType);
    private final ConstantColumnVector size = new ConstantColumnVector(1, DataTypes.IntegerType);
    private final ConstantColumnVector indices =
        new ConstantColumnVector(1, DataTypes.createArrayType(DataTypes.IntegerType, false));
    private final ArrayColumn values;

    VectorColumn(BlockRowMap rows, int width) {
      super(rows, SQLDataTypes.VectorType());
      type.setByte((byte) 1);
      size.setNull();
      indices.setNull();
      // The values are read through the same row map; under a null vector they are null too, which readers of a
      // struct never look at (Spark leaves a null struct's fields undefined).
      this.values = new ArrayColumn(rows, width, true);
    }

    @Override
    void show(FloatBlock block) {
      super.show(block);
      values.show(block);
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
}
