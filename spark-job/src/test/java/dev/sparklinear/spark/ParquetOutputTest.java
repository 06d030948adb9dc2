package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.ParquetFooters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type.Repetition;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ParquetOutputTest extends LocalSpark {
  private static final StructType SCHEMA = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("name", DataTypes.StringType, true),
      DataTypes.createStructField("output", DataTypes.createArrayType(DataTypes.FloatType, false), true),
      DataTypes.createStructField("vec", SQLDataTypes.VectorType(), true)});
  private static final int ROWS = 2000;

  @TempDir
  Path tmp;

  /** Rows whose names repeat (a dictionary pays) and whose floats almost never do. */
  private static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      List<Float> output = new ArrayList<>();
      for (int j = 0; j < 16; j++) {
        output.add((float) Math.sin(i * 16.0 + j) * 1000f);
      }
      rows.add(RowFactory.create((long) i, "name-" + (i % 3), i % 97 == 0 ? null : output,
          Vectors.dense(i, -i / 3.0)));
    }
    return rows;
  }

  @Test
  void leafPathsFollowSparksParquetSchemaForEachListLayout() {
    var array = DataTypes.createArrayType(DataTypes.FloatType, false);
    var nullableArray = DataTypes.createArrayType(DataTypes.FloatType, true);
    assertThat(ParquetOutput.leafPaths("out", array, ParquetLists.TWO_LEVEL)).containsExactly("out.array");
    assertThat(ParquetOutput.leafPaths("out", nullableArray, ParquetLists.TWO_LEVEL))
        .containsExactly("out.bag.array");
    assertThat(ParquetOutput.leafPaths("out", array, ParquetLists.THREE_LEVEL)).containsExactly("out.list.element");
    assertThat(ParquetOutput.leafPaths("out_3", DataTypes.FloatType, ParquetLists.TWO_LEVEL))
        .containsExactly("out_3");
    assertThat(ParquetOutput.leafPaths("v", SQLDataTypes.VectorType(), ParquetLists.THREE_LEVEL))
        .containsExactly("v.type", "v.size", "v.indices.list.element", "v.values.list.element");
  }

  @Test
  void dictionaryOffNamesEveryLeafOfTheGivenColumnsOnly() {
    assertThat(ParquetOutput.dictionaryOff(SCHEMA, List.of("output", "vec"), ParquetLists.TWO_LEVEL))
        .containsExactly(
            Map.entry("parquet.enable.dictionary#output.array", "false"),
            Map.entry("parquet.enable.dictionary#vec.type", "false"),
            Map.entry("parquet.enable.dictionary#vec.size", "false"),
            Map.entry("parquet.enable.dictionary#vec.indices.array", "false"),
            Map.entry("parquet.enable.dictionary#vec.values.array", "false"));
  }

  @ParameterizedTest
  @EnumSource(ParquetLists.class)
  void writesTheChosenListLayoutWithoutDictionaryOnTheComputedColumnsAndReadsBackTheSameRows(ParquetLists lists) {
    Dataset<Row> data = spark.createDataFrame(rows(), SCHEMA).repartition(2);
    Path out = tmp.resolve("out-" + lists.configValue());
    Map<String, String> options = ParquetOutput.dictionaryOff(SCHEMA, List.of("output", "vec"), lists);

    ParquetOutput.withLists(spark, lists, () -> {
      data.write().options(options).parquet(out.toString());
      return null;
    });

    ParquetFooters footers = ParquetFooters.of(out);
    GroupType output = footers.schema().getType("output").asGroupType();
    String[] element;
    if (lists == ParquetLists.TWO_LEVEL) {
      // optional group output (LIST) { repeated float array; }
      assertThat(output.getFieldCount()).isEqualTo(1);
      assertThat(output.getType(0).isPrimitive()).isTrue();
      assertThat(output.getType(0).getName()).isEqualTo("array");
      assertThat(output.getType(0).isRepetition(Repetition.REPEATED)).isTrue();
      assertThat(output.getType(0).asPrimitiveType().getPrimitiveTypeName()).isEqualTo(PrimitiveTypeName.FLOAT);
      element = new String[] {"output", "array"};
    } else {
      // optional group output (LIST) { repeated group list { required float element; } }
      assertThat(output.getType(0).isPrimitive()).isFalse();
      assertThat(output.getType(0).getName()).isEqualTo("list");
      assertThat(output.getType(0).asGroupType().getType(0).getName()).isEqualTo("element");
      element = new String[] {"output", "list", "element"};
    }
    assertThat(footers.chunks(element)).noneMatch(ColumnChunkMetaData::hasDictionaryPage);
    String[] vectorValues = lists == ParquetLists.TWO_LEVEL ? new String[] {"vec", "values", "array"}
        : new String[] {"vec", "values", "list", "element"};
    assertThat(footers.chunks(vectorValues)).noneMatch(ColumnChunkMetaData::hasDictionaryPage);
    // The kept string column, three distinct values, still gets its dictionary.
    assertThat(footers.chunks("name")).allMatch(ColumnChunkMetaData::hasDictionaryPage);

    Dataset<Row> back = spark.read().parquet(out.toString());
    assertThat(back.schema().fieldNames()).containsExactly(SCHEMA.fieldNames());
    // Spark reads every column back as nullable, whichever the layout: compare under the schema read.
    suite.assertDataFrameEquals(spark.createDataFrame(rows(), back.schema()).orderBy("id"), back.orderBy("id"));
  }

  @Test
  void withListsPutsTheSessionSettingBackAlsoWhenTheWriteFails() {
    String key = ParquetOutput.LEGACY_FORMAT_KEY;
    spark.conf().unset(key);
    String seen = ParquetOutput.withLists(spark, ParquetLists.TWO_LEVEL, () -> spark.conf().get(key));
    assertThat(seen).isEqualTo("true");
    assertThat(spark.conf().contains(key)).isFalse();

    spark.conf().set(key, "true");
    try {
      assertThatThrownBy(() -> ParquetOutput.withLists(spark, ParquetLists.THREE_LEVEL, () -> {
        assertThat(spark.conf().get(key)).isEqualTo("false");
        throw new IllegalStateException("write failed");
      })).hasMessage("write failed");
      assertThat(spark.conf().get(key)).isEqualTo("true");
    } finally {
      spark.conf().unset(key);
    }
  }
}
