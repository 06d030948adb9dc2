package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The output columns read a block in place, through the row map: expected values come from the float rows the block
 * was made of, compared bit for bit.
 */
class BlockColumnsTest {
  /** 4 rows of 3: NaN with a payload, -0.0 and an infinity among them. */
  private static final float[][] ROWS = {
      {1f, -0.0f, Float.intBitsToFloat(0x7fc00077)},
      {Float.NEGATIVE_INFINITY, 2.5f, -3f},
      {Float.MIN_VALUE, 0f, 1e30f},
      {-1f, 7f, 0.125f}};

  private BufferAllocator allocator;

  @BeforeEach
  void allocate() {
    allocator = ArrowUtils.rootAllocator().newChildAllocator("block-columns-test", 0, Long.MAX_VALUE);
  }

  @AfterEach
  void checkNothingLeaked() {
    assertThat(allocator.getAllocatedMemory()).as("bytes still allocated").isZero();
    allocator.close();
  }

  private static void assertSameBits(float actual, float expected, String what) {
    assertThat(Float.floatToRawIntBits(actual)).as(what).isEqualTo(Float.floatToRawIntBits(expected));
  }

  /**
   * A map for a block of {@code blockRowOf.length} rows shown from row id {@code first} on; when {@code mapped}, row
   * {@code r} of the block shows feature row {@code blockRowOf[r]}, else feature row {@code r}.
   */
  private static BlockRowMap rowMap(int first, boolean mapped, int... blockRowOf) {
    BlockRowMap rows = new BlockRowMap(blockRowOf.length);
    System.arraycopy(blockRowOf, 0, rows.blockRowOf, 0, blockRowOf.length);
    rows.first = first;
    rows.rows = blockRowOf.length;
    rows.mapped = mapped;
    return rows;
  }

  /** Output columns of {@code layout} showing {@code block}, every row of it at row ids 0 on, none null. */
  private static BlockColumns showing(OutputLayout layout, FloatBlock block) {
    BlockColumns columns = BlockColumns.of(layout, "y", block.cols(), false, rowMap(0, false, new int[block.rows()]));
    columns.show(block);
    return columns;
  }

  @Test
  void arrayColumnShowsEachBlockRowAtItsRowIdFromTheFirstOn() {
    BlockColumns columns = BlockColumns.of(OutputLayout.ARRAY, "y", 3, false, rowMap(10, false, new int[4]));
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      columns.show(block);
      ColumnVector column = columns.vectors().get(0);

      assertThat(columns.fields()).containsExactly(
          new StructField("y", DataTypes.createArrayType(DataTypes.FloatType, false), false,
              org.apache.spark.sql.types.Metadata.empty()));
      assertThat(column.hasNull()).isFalse();
      for (int r = 0; r < 4; r++) {
        ColumnarArray array = column.getArray(10 + r);
        assertThat(array.numElements()).isEqualTo(3);
        float[] copied = array.toFloatArray();
        for (int j = 0; j < 3; j++) {
          assertSameBits(array.getFloat(j), ROWS[r][j], "row " + r + " value " + j);
          assertSameBits(copied[j], ROWS[r][j], "row " + r + " copied value " + j);
        }
      }
    }
  }

  @Test
  void aMappedBlockShowsNullOutputsAndTheFeatureRowOfEveryOtherRow() {
    // Block rows 0..3 show feature rows 1, null, 0, (dropped): the feature block holds two rows only.
    BlockRowMap rows = rowMap(0, true, 1, BlockRowMap.NULL_OUTPUT, 0, BlockRowMap.DROPPED);
    BlockColumns columns = BlockColumns.of(OutputLayout.ARRAY, "y", 3, true, rows);
    try (FloatBlock block = FloatBlock.copyOf(allocator, new float[][] {ROWS[2], ROWS[3]})) {
      columns.show(block);
      ColumnVector column = columns.vectors().get(0);

      assertThat(columns.fields().get(0).nullable()).isTrue();
      assertThat(column.hasNull()).isTrue();
      assertThat(column.numNulls()).as("the null output and the dropped row").isEqualTo(2);
      assertThat(column.isNullAt(1)).isTrue();
      assertThat(column.isNullAt(0)).isFalse();
      assertThat(column.getArray(0).toFloatArray()).containsExactly(ROWS[3]);
      assertSameBits(column.getArray(2).getFloat(2), ROWS[2][2], "row 2 value 2");
      assertThat(rows.isDropped(3)).isTrue();
      assertThat(rows.rowIdOf(1)).isZero();
      assertThat(rows.rowIdOf(0)).isEqualTo(2);
    }
  }

  @Test
  void getFloatsCopiesWholeRowsInBulkAndPartialRowsValueByValue() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      BlockColumns columns = showing(OutputLayout.ARRAY, block);
      // Whole rows (rows 1 and 2, from flat index 3) and a run that starts and ends inside rows.
      float[] bulk = flatValues(columns).getFloats(3, 6);
      float[] partial = flatValues(columns).getFloats(2, 5);
      for (int i = 0; i < 6; i++) {
        assertSameBits(bulk[i], ROWS[1 + i / 3][i % 3], "bulk value " + i);
      }
      for (int i = 0; i < 5; i++) {
        int flat = 2 + i;
        assertSameBits(partial[i], ROWS[flat / 3][flat % 3], "partial value " + i);
      }
    }
  }

  /**
   * The element column of the array output: every value of the block, row-major. Spark reads it only through
   * {@link ColumnarArray}, which keeps it private, so the test takes it from there.
   */
  private static ColumnVector flatValues(BlockColumns columns) {
    ColumnarArray first = columns.vectors().get(0).getArray(0);
    try {
      java.lang.reflect.Field data = ColumnarArray.class.getDeclaredField("data");
      data.setAccessible(true);
      return (ColumnVector) data.get(first);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void columnsLayoutGivesOneFloatColumnPerOutput() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      BlockColumns columns = showing(OutputLayout.COLUMNS, block);

      assertThat(columns.fields()).extracting(StructField::name).containsExactly("y_0", "y_1", "y_2");
      assertThat(columns.fields()).extracting(StructField::dataType).containsOnly(DataTypes.FloatType);
      for (int j = 0; j < 3; j++) {
        for (int r = 0; r < 4; r++) {
          assertSameBits(columns.vectors().get(j).getFloat(r), ROWS[r][j], "row " + r + " output " + j);
        }
      }
    }
  }

  @Test
  void vectorLayoutIsADenseSparkMlVectorOfDoubles() {
    BlockColumns columns = BlockColumns.of(OutputLayout.VECTOR, "y", 3, true,
        rowMap(0, true, BlockRowMap.NULL_OUTPUT, 0));
    try (FloatBlock block = FloatBlock.copyOf(allocator, new float[][] {ROWS[0]})) {
      columns.show(block);
      ColumnVector vector = columns.vectors().get(0);

      assertThat(columns.fields().get(0).dataType()).isEqualTo(SQLDataTypes.VectorType());
      assertThat(vector.isNullAt(0)).isTrue();
      assertThat(vector.isNullAt(1)).isFalse();
      assertThat(vector.getChild(0).getByte(1)).as("type: dense").isEqualTo((byte) 1);
      assertThat(vector.getChild(1).isNullAt(1)).as("size").isTrue();
      assertThat(vector.getChild(2).isNullAt(1)).as("indices").isTrue();
      assertThat(vector.getChild(3).isNullAt(1)).as("values of a non-null vector").isFalse();
      double[] values = vector.getChild(3).getArray(1).toDoubleArray();
      for (int j = 0; j < 3; j++) {
        assertThat(Double.doubleToRawLongBits(values[j])).as("value %d", j)
            .isEqualTo(Double.doubleToRawLongBits((double) ROWS[0][j]));
      }
      assertThatThrownBy(() -> vector.getChild(4))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("A vector struct has 4 fields, asked for 4");
    }
  }

  @Test
  void aBlockOverASliceOfALargerBufferIsReadFromTheSlice() {
    BlockColumns columns = BlockColumns.of(OutputLayout.ARRAY, "y", 3, false, rowMap(0, false, 0, 1));
    try (ArrowBuf larger = allocator.buffer(4L * 20)) {
      for (int i = 0; i < 20; i++) {
        larger.setFloat(4L * i, 1000 + i);
      }
      // Rows 1 and 2 of ROWS written at float 5 of the larger buffer: the block starts there.
      for (int r = 0; r < 2; r++) {
        for (int j = 0; j < 3; j++) {
          larger.setFloat(4L * (5 + r * 3 + j), ROWS[1 + r][j]);
        }
      }
      try (FloatBlock block = FloatBlock.wrap(larger.slice(4L * 5, 4L * 6), 2, 3)) {
        columns.show(block);
        for (int r = 0; r < 2; r++) {
          float[] y = columns.vectors().get(0).getArray(r).toFloatArray();
          for (int j = 0; j < 3; j++) {
            assertSameBits(y[j], ROWS[1 + r][j], "row " + r + " value " + j);
          }
        }
        assertThat(flatValues(columns).getFloats(0, 6)).containsExactly(
            ROWS[1][0], ROWS[1][1], ROWS[1][2], ROWS[2][0], ROWS[2][1], ROWS[2][2]);
      }
    }
  }

  @Test
  void anEmptyBlockShowsNoRows() {
    try (FloatBlock block = FloatBlock.allocate(allocator, 0, 3)) {
      BlockColumns columns = showing(OutputLayout.ARRAY, block);
      assertThat(columns.vectors().get(0).numNulls()).isZero();
      assertThat(flatValues(columns).getFloats(0, 0)).isEmpty();
    }
  }

  @Test
  void gettersOfAnotherTypeFailNamingTheGetterAndTheType() {
    BlockRowMap rows = rowMap(0, false, 0);
    List<? extends ColumnVector> vectors = BlockColumns.of(OutputLayout.ARRAY, "y", 3, false, rows).vectors();
    assertThatThrownBy(() -> vectors.get(0).getInt(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("getInt called on an output column of type array<float>");
    List<? extends ColumnVector> floats = BlockColumns.of(OutputLayout.COLUMNS, "y", 1, false, rows).vectors();
    assertThatThrownBy(() -> floats.get(0).getUTF8String(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("getUTF8String called on an output column of type float");
  }
}
