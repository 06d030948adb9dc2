package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.testing.LocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The columnar path (features read from Parquet batches in bulk) against the row path on the same files. */
class ColumnBatchSourceTest extends LocalSpark {
  private static final int IN = 5;
  private static final int OUT = 4;

  @TempDir
  Path dir;

  /** Parquet with id, tag, float and double arrays, a vector and scalar columns; every 50th row's arrays are sparse. */
  private Dataset<Row> writeParquet(int rows, int files) {
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("tag", DataTypes.StringType, true)
        .add("floats", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("doubles", DataTypes.createArrayType(DataTypes.DoubleType, false))
        .add("vector", org.apache.spark.ml.linalg.SQLDataTypes.VectorType())
        .add("f0", DataTypes.FloatType).add("f1", DataTypes.DoubleType).add("f2", DataTypes.IntegerType)
        .add("f3", DataTypes.LongType).add("f4", DataTypes.FloatType);
    Random random = new Random(3);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      float[] x = new float[IN];
      for (int k = 0; k < IN; k++) {
        x[k] = i % 50 == 0 && k > 0 ? 0f : (float) random.nextGaussian();
      }
      List<Float> floats = new ArrayList<>();
      List<Double> doubles = new ArrayList<>();
      double[] asDoubles = new double[IN];
      for (int k = 0; k < IN; k++) {
        floats.add(x[k]);
        doubles.add((double) x[k]);
        asDoubles[k] = x[k];
      }
      data.add(RowFactory.create((long) i, i % 7 == 0 ? null : "t" + i, floats, doubles,
          i % 2 == 0 ? Vectors.dense(asDoubles) : Vectors.dense(asDoubles).toSparse(),
          x[0], (double) x[1], Math.round(x[2] * 100), (long) Math.round(x[3] * 1000), x[4]));
    }
    String path = dir.resolve("input").toString();
    spark.createDataFrame(data, schema).repartition(files).write().parquet(path);
    return spark.read().parquet(path);
  }

  private static ModuleTransformer transformer(Linear fc, String column, int blockRows, boolean columnar) {
    ModuleTransformer t = new ModuleTransformer(fc).setBlockMaxRows(blockRows).setColumnarInput(columnar)
        .setKeepCols("id", "tag");
    return column.equals("scalars") ? t.setInputCols("f0", "f1", "f2", "f3", "f4") : t.setInputCol(column);
  }

  @Test
  void parquetScanOfArraysIsReadAsColumnarBatches() {
    Dataset<Row> input = writeParquet(10, 1);
    assertThat(ColumnarInput.of(input.select("id", "tag", "floats"))).isPresent();
    assertThat(ColumnarInput.of(input.select("id", "tag", "doubles"))).isPresent();
  }

  @Test
  void computedColumnsKeepTheRowPath() {
    Dataset<Row> input = writeParquet(10, 1);
    assertThat(ColumnarInput.of(input.selectExpr("id + 1 AS id", "floats"))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"floats", "doubles", "vector", "scalars"})
  void columnarAndRowPathsGiveIdenticalOutput(String column) {
    Dataset<Row> input = writeParquet(3000, 3);
    Linear fc = new Linear(IN, OUT, true, 21);
    for (int blockRows : new int[] {1, 7, 4096}) {
      List<Row> columnar = transformer(fc, column, blockRows, true).transform(input).collectAsList();
      List<Row> rows = transformer(fc, column, blockRows, false).transform(input).collectAsList();
      assertThat(columnar).as("block.max-rows=%d", blockRows).hasSize(3000).containsExactlyElementsOf(rows);
    }
    assertNoArrowMemoryHeld();
  }

  @ParameterizedTest
  @ValueSource(strings = {"FLOAT", "DOUBLE"})
  void wideBlocksAreTakenFromTheBatchInChunksWithTheRowPathsOutput(String type) {
    // 1,500 rows of 300 values, one batch and one block, taken in 14 chunks of 109 rows (the last one partial).
    String path = dir.resolve("wide").toString();
    spark.sql("SELECT id, transform(sequence(1, 300), k -> CAST(sin(id * 300 + k) AS " + type + ")) AS features"
        + " FROM range(1500)").coalesce(1).write().parquet(path);
    Dataset<Row> input = spark.read().parquet(path);
    Linear fc = new Linear(300, 3, true, 5);
    ModuleTransformer columnar = new ModuleTransformer(fc).setInputCol("features").setKeepCols("id");
    ModuleTransformer rows = new ModuleTransformer(fc).setInputCol("features").setKeepCols("id")
        .setColumnarInput(false);

    assertThat(ColumnarInput.of(input)).isPresent();
    assertThat(columnar.transform(input).collectAsList()).hasSize(1500)
        .containsExactlyElementsOf(rows.transform(input).collectAsList());
    assertNoArrowMemoryHeld();
  }

  @Test
  void columnarPathNamesTheRowOfAVectorOfTheWrongWidth() {
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("floats", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      data.add(RowFactory.create((long) i, i == 77 ? Arrays.asList(1f, 2f) : Arrays.asList(1f, 2f, 3f, 4f, 5f)));
    }
    String path = dir.resolve("bad").toString();
    spark.createDataFrame(data, schema).coalesce(1).write().parquet(path);
    Dataset<Row> input = spark.read().parquet(path);
    assertThat(ColumnarInput.of(input.select("id", "floats"))).isPresent();
    assertThatThrownBy(() -> new ModuleTransformer(new Linear(IN, OUT)).setInputCol("floats").setKeepCols("id")
            .transform(input).collectAsList())
        .rootCause()
        .isInstanceOf(InvalidRowException.class)
        .hasMessageContaining("Invalid row 77 of partition 0 (id=77) in file:")
        .hasMessageContaining("column 'floats' has 2 values, expected in_features=5");
    assertNoArrowMemoryHeld();
  }
}
