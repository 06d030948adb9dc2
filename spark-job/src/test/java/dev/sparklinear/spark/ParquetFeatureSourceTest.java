package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.testing.LocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The transform with the feature column read by our own Parquet reader ({@code parquetReader=auto}) against the same
 * transform with Spark reading every column: the same rows, output bits, counters and errors.
 */
class ParquetFeatureSourceTest extends LocalSpark {
  private static final int IN = 16;
  private static final int OUT = 4;
  private static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType, false)
      .add("tag", DataTypes.StringType).add("features", DataTypes.createArrayType(DataTypes.FloatType, true));

  @TempDir
  Path dir;

  @AfterEach
  void noLeaks() {
    assertNoArrowMemoryHeld();
  }

  /** {@code n} rows in {@code files} files of small row groups; with {@code invalid}, some rows the module cannot take. */
  private Dataset<Row> write(String name, int n, int files, boolean invalid) {
    Random random = new Random(17);
    List<Row> rows = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      List<Float> x = new ArrayList<>();
      for (int k = 0; k < IN; k++) {
        x.add((float) random.nextGaussian());
      }
      if (invalid && i % 101 == 13) {
        x.add(1f);
      } else if (invalid && i % 103 == 21) {
        x.set(5, null);
      } else if (invalid && i % 107 == 30) {
        x.set(1, Float.NaN);
      } else if (invalid && i % 109 == 33) {
        x.remove(3);
      }
      rows.add(RowFactory.create(i, i % 5 == 0 ? null : "t" + i, invalid && i % 97 == 7 ? null : x));
    }
    String path = dir.resolve(name).toString();
    spark.createDataFrame(rows, SCHEMA).repartition(files).write().option("parquet.block.size", "16384").parquet(path);
    return spark.read().parquet(path);
  }

  private static ModuleTransformer transformer(ParquetReaderKind reader, BlockCounters counters) {
    return new ModuleTransformer(new Linear(IN, OUT, true, 3)).setInputCol("features").setKeepCols("id", "tag")
        .setBlockMaxRows(300).setParquetReader(reader).setCounters(counters);
  }

  /** Each output row as text, output floats as their bits: equal lists mean bit-for-bit equal outputs, in order. */
  private static List<String> rowsOf(Dataset<Row> output) {
    return output.collectAsList().stream().map(row -> {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        Object value = row.get(i);
        if (value instanceof scala.collection.Seq<?> seq) {
          List<Integer> bits = new ArrayList<>();
          scala.jdk.javaapi.CollectionConverters.asJava(seq).forEach(v -> bits.add(Float.floatToRawIntBits((Float) v)));
          value = bits;
        }
        text.append(value).append('|');
      }
      return text.toString();
    }).toList();
  }

  private static String countsOf(BlockCounters counters) {
    return counters.rowsIn() + " in, " + counters.rowsOut() + " out, invalid " + counters.invalidRows();
  }

  @Test
  void manySplitsAndRowGroupsGiveSparksOutput() {
    spark.conf().set("spark.sql.files.maxPartitionBytes", "40000");
    spark.conf().set("spark.sql.files.openCostInBytes", "0");
    try {
      Dataset<Row> input = write("splits", 12000, 2, false);
      assertThat(input.rdd().getNumPartitions()).as("splits per file").isGreaterThan(4);
      ModuleTransformer ours = transformer(ParquetReaderKind.AUTO, null);
      assertThat(ours.readsParquetFeatures(input)).isTrue();
      assertThat(transformer(ParquetReaderKind.SPARK, null).readsParquetFeatures(input)).isFalse();
      List<String> expected = rowsOf(transformer(ParquetReaderKind.SPARK, null).transform(input));
      assertThat(expected).hasSize(12000);
      assertThat(rowsOf(ours.transform(input))).isEqualTo(expected);
    } finally {
      spark.conf().unset("spark.sql.files.maxPartitionBytes");
      spark.conf().unset("spark.sql.files.openCostInBytes");
    }
  }

  @ParameterizedTest
  @EnumSource(value = InvalidRowPolicy.class, names = {"SKIP", "NULL"})
  void invalidRowsAreHandledAsOnSparksPath(InvalidRowPolicy policy) {
    Dataset<Row> input = write("invalid-" + policy, 3000, 2, true);
    for (boolean nanGuard : new boolean[] {false, true}) {
      BlockCounters sparkCounts = BlockCounters.register(spark.sparkContext());
      BlockCounters ourCounts = BlockCounters.register(spark.sparkContext());
      List<String> expected = rowsOf(transformer(ParquetReaderKind.SPARK, sparkCounts).setInvalidRows(policy)
          .setRejectNonFinite(nanGuard).transform(input));
      ModuleTransformer ours = transformer(ParquetReaderKind.AUTO, ourCounts).setInvalidRows(policy)
          .setRejectNonFinite(nanGuard);
      assertThat(ours.readsParquetFeatures(input)).isTrue();
      assertThat(rowsOf(ours.transform(input))).isEqualTo(expected);
      assertThat(countsOf(ourCounts)).isEqualTo(countsOf(sparkCounts));
      assertThat(sparkCounts.invalidRowsTotal()).isGreaterThan(nanGuard ? 120 : 90);
    }
  }

  @Test
  void anInvalidRowFailsWithSparksMessage() {
    Dataset<Row> input = write("error", 600, 1, true);
    String expected = messageOf(() -> rowsOf(transformer(ParquetReaderKind.SPARK, null).transform(input)));
    assertThat(expected).contains("Invalid row 7 of partition 0 (id=7, tag=t7) in file:").contains("is null");
    assertThat(messageOf(() -> rowsOf(transformer(ParquetReaderKind.AUTO, null).transform(input))))
        .isEqualTo(expected);
  }

  private static String messageOf(Runnable run) {
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(run::run);
    assertThat(thrown).isNotNull();
    while (!(thrown instanceof InvalidRowException) && thrown.getCause() != null) {
      thrown = thrown.getCause();
    }
    assertThat(thrown).isInstanceOf(InvalidRowException.class);
    return thrown.getMessage();
  }

  @Test
  void noKeptColumnsAndARenamedFeatureColumn() {
    // A folder name that URL-encodes: the scan names its files so, and the reader must open the same files.
    Dataset<Row> input = write("shapes dir%20#1", 2000, 2, false);
    ModuleTransformer noKept = transformer(ParquetReaderKind.AUTO, null).setKeepCols();
    assertThat(noKept.readsParquetFeatures(input)).isTrue();
    assertThat(rowsOf(noKept.transform(input)))
        .isEqualTo(rowsOf(transformer(ParquetReaderKind.SPARK, null).setKeepCols().transform(input)));

    Dataset<Row> renamed = input.select(functions.col("tag"), functions.col("id"), functions.col("features").as("x"));
    ModuleTransformer ours = transformer(ParquetReaderKind.AUTO, null).setInputCol("x").setKeepCols("tag", "id");
    assertThat(ours.readsParquetFeatures(renamed)).isTrue();
    assertThat(rowsOf(ours.transform(renamed))).isEqualTo(rowsOf(transformer(ParquetReaderKind.SPARK, null)
        .setInputCol("x").setKeepCols("tag", "id").transform(renamed)));
  }

  @Test
  void otherInputsKeepSparksReader() {
    Dataset<Row> input = write("others", 200, 1, false);
    ModuleTransformer auto = transformer(ParquetReaderKind.AUTO, null);
    assertThat(auto.readsParquetFeatures(input.filter("id > 3"))).as("a filter").isFalse();
    Dataset<Row> doubles = input.select(functions.col("id"), functions.col("tag"),
        functions.col("features").cast("array<double>").as("features"));
    assertThat(auto.readsParquetFeatures(doubles)).as("a computed column").isFalse();
    String partitioned = dir.resolve("partitioned").toString();
    input.withColumn("part", functions.col("id").mod(2)).write().partitionBy("part").parquet(partitioned);
    assertThat(auto.readsParquetFeatures(spark.read().parquet(partitioned))).as("partition columns").isFalse();
    String orc = dir.resolve("orc").toString();
    input.write().orc(orc);
    assertThat(auto.readsParquetFeatures(spark.read().orc(orc))).as("ORC").isFalse();
    assertThat(transformer(ParquetReaderKind.AUTO, null).setColumnarInput(false).readsParquetFeatures(input))
        .as("columnar input off").isFalse();
    for (String setting : new String[] {"spark.sql.caseSensitive", "spark.sql.files.ignoreCorruptFiles",
        "spark.sql.files.ignoreMissingFiles", "spark.sql.parquet.fieldId.read.enabled"}) {
      spark.conf().set(setting, "true");
      try {
        assertThat(auto.readsParquetFeatures(input)).as(setting).isFalse();
      } finally {
        spark.conf().unset(setting);
      }
    }
    assertThat(auto.readsParquetFeatures(input)).isTrue();
    assertThatThrownBy(() -> auto.set(auto.parquetReader(), "fast"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
