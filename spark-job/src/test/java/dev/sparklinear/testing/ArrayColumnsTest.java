package dev.sparklinear.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ArrayColumnsTest extends LocalSpark {

  private static Dataset<Row> frame(DataType keyType, DataType elementType, Row... rows) {
    StructType schema = new StructType(new StructField[] {
        DataTypes.createStructField("id", keyType, false),
        DataTypes.createStructField("y", DataTypes.createArrayType(elementType), true)});
    return spark.createDataFrame(List.of(rows), schema);
  }

  private static Dataset<Row> expected() {
    return frame(DataTypes.LongType, DataTypes.DoubleType,
        RowFactory.create(1L, Arrays.asList(1.0, 2.0)), RowFactory.create(2L, Arrays.asList(-3.0, 0.5)));
  }

  @Test
  void acceptsValuesWithinToleranceWhateverTheRowOrderAndNumericTypes() {
    Dataset<Row> actual = frame(DataTypes.IntegerType, DataTypes.FloatType,
        RowFactory.create(2, Arrays.asList(-3.000001f, 0.5f)), RowFactory.create(1, Arrays.asList(1f, 2.000001f)));
    assertThatCode(() -> ArrayColumns.assertClose(actual, expected(), "id", "y", 1e-5)).doesNotThrowAnyException();
  }

  @Test
  void rejectsValueOutsideToleranceNamingKeyAndIndex() {
    Dataset<Row> actual = frame(DataTypes.LongType, DataTypes.FloatType,
        RowFactory.create(1L, Arrays.asList(1f, 2f)), RowFactory.create(2L, Arrays.asList(-3f, 0.5001f)));
    assertThatThrownBy(() -> ArrayColumns.assertClose(actual, expected(), "id", "y", 1e-5))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("id=2: y[1] is 0.5001")
        .hasMessageContaining("expected 0.5");
  }

  @Test
  void rejectsMissingRowsNullArraysNullValuesAndWrongLengths() {
    Dataset<Row> actual = frame(DataTypes.LongType, DataTypes.FloatType,
        RowFactory.create(1L, null), RowFactory.create(3L, Arrays.asList(1f, 2f)));
    assertThatThrownBy(() -> ArrayColumns.assertClose(actual, expected(), "id", "y", 1e-5))
        .hasMessageContaining("rows missing from actual: id in [2]")
        .hasMessageContaining("rows not expected: id in [3]")
        .hasMessageContaining("id=1: y is null, expected [1.0, 2.0]");
    Dataset<Row> holes = frame(DataTypes.LongType, DataTypes.FloatType,
        RowFactory.create(1L, Arrays.asList(1f, null)), RowFactory.create(2L, Arrays.asList(-3f)));
    assertThatThrownBy(() -> ArrayColumns.assertClose(holes, expected(), "id", "y", 1e-5))
        .hasMessageContaining("id=1: y[1] is NaN")
        .hasMessageContaining("id=2: y is [-3.0], expected [-3.0, 0.5]");
  }

  @Test
  void rejectsDuplicateKeys() {
    Dataset<Row> actual = frame(DataTypes.LongType, DataTypes.FloatType,
        RowFactory.create(1L, Arrays.asList(1f, 2f)), RowFactory.create(1L, Arrays.asList(1f, 2f)));
    assertThatThrownBy(() -> ArrayColumns.assertClose(actual, expected(), "id", "y", 1e-5))
        .hasMessage("The actual frame has id=1 more than once");
  }
}
