package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The feature readers on rows built here, as Spark's own rows ({@code UnsafeRow}, read with a memory copy) and as
 * generic rows (read element by element), writing into Arrow memory. Expected values are the inputs converted with
 * plain Java casts, compared bit for bit.
 */
class FeatureReaderTest {
  /** Values whose bits a careless copy would change: NaN with a payload, -0.0, infinities, a subnormal. */
  private static final float[] AWKWARD = {
      Float.intBitsToFloat(0x7fc00123), -0.0f, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, 1.5f, -3.25e7f};

  private BufferAllocator allocator;
  private ArrowBuf out;

  @BeforeEach
  void allocate() {
    allocator = ArrowUtils.rootAllocator().newChildAllocator("feature-reader-test", 0, Long.MAX_VALUE);
    out = allocator.buffer(4L * 64);
  }

  @AfterEach
  void checkNothingLeaked() {
    out.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  private float[] written(int width) {
    float[] values = new float[width];
    for (int i = 0; i < width; i++) {
      values[i] = out.getFloat(4L * i);
    }
    return values;
  }

  /** Checks that {@code reader} refuses {@code row} at {@code width}, for {@code problem}. */
  private void assertRefused(FeatureReader reader, InternalRow row, int width, FeatureReader.Problem problem) {
    assertThat(reader.read(row, out.memoryAddress(), width)).as("read").isFalse();
    assertThat(reader.problem).isEqualTo(problem);
  }

  private static void assertSameBits(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToRawIntBits(actual[i])).as("bits of value %d", i)
          .isEqualTo(Float.floatToRawIntBits(expected[i]));
    }
  }

  /** A row {@code (id, features)} of {@code schema}, as an UnsafeRow when {@code unsafe}. */
  private static InternalRow row(StructType schema, boolean unsafe, Object features) {
    GenericInternalRow row = new GenericInternalRow(new Object[] {7L, features});
    return unsafe ? UnsafeProjection.create(schema).apply(row).copy() : row;
  }

  private static StructType arrayOf(DataType element) {
    return new StructType().add("id", DataTypes.LongType).add("features", DataTypes.createArrayType(element));
  }

  private static Object[] boxed(float[] values) {
    Object[] out = new Object[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  @ParameterizedTest(name = "unsafe={0}")
  @ValueSource(booleans = {true, false})
  void floatArraysKeepEveryBitIncludingNanPayloadsAndNegativeZero(boolean unsafe) {
    StructType schema = arrayOf(DataTypes.FloatType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    InternalRow row = row(schema, unsafe, new GenericArrayData(boxed(AWKWARD)));
    if (unsafe) {
      assertThat(row).isInstanceOf(UnsafeRow.class);
    }

    assertThat(reader.read(row, out.memoryAddress(), AWKWARD.length)).isTrue();
    assertSameBits(written(AWKWARD.length), AWKWARD);
    assertThat(reader.bulkElementType).isEqualTo(DataTypes.FloatType);
    assertThat(reader.description).isEqualTo("column 'features'");
  }

  @ParameterizedTest(name = "unsafe={0}")
  @ValueSource(booleans = {true, false})
  void doubleArraysRoundToTheNearestFloat(boolean unsafe) {
    double[] values = {0.1, -0.0, Double.NaN, 1e39, -1e-46, 16777217.0, Math.PI};
    float[] expected = new float[values.length];
    Object[] boxed = new Object[values.length];
    for (int i = 0; i < values.length; i++) {
      expected[i] = (float) values[i];
      boxed[i] = values[i];
    }
    StructType schema = arrayOf(DataTypes.DoubleType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);

    assertThat(reader.read(row(schema, unsafe, new GenericArrayData(boxed)), out.memoryAddress(), values.length))
        .isTrue();
    assertSameBits(written(values.length), expected);
    assertThat(reader.bulkElementType).isEqualTo(DataTypes.DoubleType);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bigint", "int", "smallint", "tinyint"})
  void integerArraysAreConvertedToFloat(String type) {
    DataType element = DataType.fromDDL(type);
    long[] values = {-128, 0, 1, 127};
    Object[] boxed = new Object[values.length];
    float[] expected = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = switch (type) {
        case "bigint" -> values[i];
        case "int" -> (int) values[i];
        case "smallint" -> (short) values[i];
        default -> (byte) values[i];
      };
      expected[i] = values[i];
    }
    StructType schema = arrayOf(element);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);

    assertThat(reader.read(row(schema, true, new GenericArrayData(boxed)), out.memoryAddress(), 4)).isTrue();
    assertSameBits(written(4), expected);
    assertThat(reader.bulkElementType).isNull();
  }

  @Test
  void longIntegersRoundToTheNearestFloat() {
    StructType schema = arrayOf(DataTypes.LongType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    Object[] values = {(1L << 24) + 1, Long.MAX_VALUE};

    assertThat(reader.read(row(schema, false, new GenericArrayData(values)), out.memoryAddress(), 2)).isTrue();
    assertSameBits(written(2), new float[] {(float) ((1L << 24) + 1), (float) Long.MAX_VALUE});
  }

  @ParameterizedTest(name = "unsafe={0}")
  @ValueSource(booleans = {true, false})
  void aNullVectorIsRefused(boolean unsafe) {
    StructType schema = arrayOf(DataTypes.FloatType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);

    assertRefused(reader, row(schema, unsafe, null), 3, FeatureReader.Problem.NULL_VECTOR);
  }

  @ParameterizedTest(name = "{0}, unsafe={1}")
  @org.junit.jupiter.params.provider.CsvSource({"float, true", "float, false", "double, true", "double, false",
      "int, true"})
  void aNullElementIsRefused(String type, boolean unsafe) {
    StructType schema = arrayOf(DataType.fromDDL(type));
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    Object one = switch (type) {
      case "float" -> 1f;
      case "double" -> 1d;
      default -> 1;
    };
    // The null is the 70th element: past the first 64-bit word of Spark's null bitset.
    Object[] values = new Object[70];
    java.util.Arrays.fill(values, one);
    values[69] = null;

    assertRefused(reader, row(schema, unsafe, new GenericArrayData(values)), 70, FeatureReader.Problem.NULL_ELEMENT);
  }

  @ParameterizedTest(name = "unsafe={0}")
  @ValueSource(booleans = {true, false})
  void aVectorOfTheWrongWidthIsRefusedWithTheWidthFound(boolean unsafe) {
    StructType schema = arrayOf(DataTypes.FloatType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);

    assertRefused(reader, row(schema, unsafe, new GenericArrayData(new Object[] {1f, 2f})), 3,
        FeatureReader.Problem.WRONG_WIDTH);
    assertThat(reader.foundWidth).isEqualTo(2);
  }

  @Test
  void anEmptyVectorIsReadWhenTheWidthIsZeroAndRefusedOtherwise() {
    StructType schema = arrayOf(DataTypes.FloatType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    InternalRow empty = row(schema, true, new GenericArrayData(new Object[0]));

    assertThat(reader.read(empty, out.memoryAddress(), 0)).isTrue();
    assertThat(reader.read(empty, out.memoryAddress(), 1)).isFalse();
    assertThat(reader.foundWidth).isZero();
  }

  /** A Spark ML vector value: struct(type, size, indices, values), type 1 dense and 0 sparse. */
  private static InternalRow vectorRow(StructType schema, boolean dense, int size, int[] indices, double[] values) {
    Object[] boxedIndices = new Object[indices.length];
    for (int i = 0; i < indices.length; i++) {
      boxedIndices[i] = indices[i];
    }
    Object[] boxedValues = new Object[values.length];
    for (int i = 0; i < values.length; i++) {
      boxedValues[i] = values[i];
    }
    GenericInternalRow vector = new GenericInternalRow(new Object[] {(byte) (dense ? 1 : 0), dense ? null : size,
        dense ? null : new GenericArrayData(boxedIndices), new GenericArrayData(boxedValues)});
    return row(schema, true, vector);
  }

  @Test
  void denseAndSparseVectorsGiveTheSameFloats() {
    StructType schema = new StructType().add("id", DataTypes.LongType).add("features", SQLDataTypes.VectorType());
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    double[] dense = {0.0, -0.0, 2.5, 0.0, 1e-3};
    float[] expected = new float[dense.length];
    for (int i = 0; i < dense.length; i++) {
      expected[i] = (float) dense[i];
    }

    // Stale values in the block must not survive a sparse read: its zeros are written, not skipped.
    for (int i = 0; i < 5; i++) {
      out.setFloat(4L * i, 99f);
    }
    assertThat(reader.read(vectorRow(schema, false, 5, new int[] {1, 2, 4}, new double[] {-0.0, 2.5, 1e-3}),
        out.memoryAddress(), 5)).isTrue();
    assertSameBits(written(5), expected);

    assertThat(reader.read(vectorRow(schema, true, 0, new int[0], dense), out.memoryAddress(), 5)).isTrue();
    assertSameBits(written(5), expected);
  }

  @Test
  void vectorsOfTheWrongSizeAreRefusedWithTheSizeFound() {
    StructType schema = new StructType().add("id", DataTypes.LongType).add("features", SQLDataTypes.VectorType());
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);

    assertRefused(reader, vectorRow(schema, false, 9, new int[] {0}, new double[] {1}), 5,
        FeatureReader.Problem.WRONG_WIDTH);
    assertThat(reader.foundWidth).isEqualTo(9);
    assertThat(reader.read(vectorRow(schema, true, 0, new int[0], new double[] {1, 2}), out.memoryAddress(), 5))
        .isFalse();
    assertThat(reader.foundWidth).isEqualTo(2);
  }

  @Test
  void scalarColumnsOfMixedTypesAreReadInOrder() {
    StructType schema = new StructType().add("id", DataTypes.LongType).add("a", DataTypes.FloatType)
        .add("b", DataTypes.DoubleType).add("c", DataTypes.IntegerType).add("d", DataTypes.LongType)
        .add("e", DataTypes.ShortType).add("f", DataTypes.ByteType);
    FeatureReader reader = FeatureReader.forScalarColumns(schema, List.of("a", "b", "c", "d", "e", "f"), 1);
    InternalRow row = UnsafeProjection.create(schema).apply(new GenericInternalRow(
        new Object[] {1L, -0.0f, 0.1, -7, 1L << 40, (short) 300, (byte) -2})).copy();

    assertThat(reader.read(row, out.memoryAddress(), 6)).isTrue();
    assertSameBits(written(6), new float[] {-0.0f, (float) 0.1, -7f, (float) (1L << 40), 300f, -2f});
    assertThat(reader.description).isEqualTo("columns [a, b, c, d, e, f]");
    assertThat(reader.bulkElementType).isNull();

    assertThat(reader.read(new GenericInternalRow(new Object[] {1L, 1f, null, 1, 1L, (short) 1, (byte) 1}),
        out.memoryAddress(), 6)).isFalse();
    assertThat(reader.problem).isEqualTo(FeatureReader.Problem.NULL_ELEMENT);
    assertRefused(reader, row, 5, FeatureReader.Problem.WRONG_WIDTH);
    assertThat(reader.foundWidth).isEqualTo(6);
  }

  @Test
  void readCheckedRefusesNonFiniteValuesOnlyWhenAsked() {
    StructType schema = arrayOf(DataTypes.FloatType);
    FeatureReader reader = FeatureReader.forColumn(schema, "features", 1);
    InternalRow finite = row(schema, true, new GenericArrayData(new Object[] {1f, -0.0f, Float.MAX_VALUE}));
    InternalRow nan = row(schema, true, new GenericArrayData(new Object[] {1f, 2f, Float.NaN}));

    assertThat(reader.readChecked(nan, out.memoryAddress(), 3)).isTrue();
    reader.rejectNonFinite = true;
    assertThat(reader.readChecked(finite, out.memoryAddress(), 3)).isTrue();
    assertThat(reader.readChecked(nan, out.memoryAddress(), 3)).isFalse();
    assertThat(reader.problem).isEqualTo(FeatureReader.Problem.NON_FINITE);
  }

  @Test
  void allFiniteLooksAtExactlyTheValuesAsked() {
    out.setFloat(0, 1f);
    out.setFloat(4, -0.0f);
    out.setFloat(8, Float.POSITIVE_INFINITY);

    assertThat(FeatureReader.allFinite(out.memoryAddress(), 2)).isTrue();
    assertThat(FeatureReader.allFinite(out.memoryAddress(), 3)).isFalse();
    assertThat(FeatureReader.allFinite(out.memoryAddress(), 0)).isTrue();
  }

  @Test
  void refusesAColumnThatIsNotAFeatureVectorNamingItAndItsType() {
    StructType schema = new StructType().add("id", DataTypes.LongType).add("name", DataTypes.StringType);

    assertThatThrownBy(() -> FeatureReader.forColumn(schema, "name", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column 'name' has type string, which is not a feature vector: use an array of numbers (float,"
            + " double or integer) or a Spark ML vector (or input.columns for numeric scalar columns)");
    assertThatThrownBy(() -> FeatureReader.forScalarColumns(schema, List.of("name"), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column 'name' has type string, which is not numeric: input.columns takes float, double, int,"
            + " bigint, smallint or tinyint columns");
  }
}
