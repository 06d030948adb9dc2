package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.sparklinear.core.nn.Identity;
import dev.sparklinear.spark.ModuleTransformer;
import dev.sparklinear.spark.ParquetOutput;
import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.ParquetFooters;
import dev.sparklinear.testing.RecordingCommitProtocol;
import dev.sparklinear.testing.RecordingCommitProtocol.CommittedJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.internal.column.columnindex.OffsetIndex;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ColumnarParquetWriterTest extends LocalSpark {
  private static final int WIDTH = 16;
  private static final Metadata LINEAGE = new MetadataBuilder().putString("module", "Linear(16, 16)").build();
  /** Every type the writer takes, nullable where a null can occur, with column metadata on one column. */
  private static final StructType SCHEMA = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("flag", DataTypes.BooleanType, true),
      DataTypes.createStructField("b", DataTypes.ByteType, true),
      DataTypes.createStructField("s", DataTypes.ShortType, true),
      DataTypes.createStructField("i", DataTypes.IntegerType, true),
      DataTypes.createStructField("d", DataTypes.DoubleType, true),
      DataTypes.createStructField("name", DataTypes.StringType, true),
      DataTypes.createStructField("bin", DataTypes.BinaryType, true),
      DataTypes.createStructField("day", DataTypes.DateType, true),
      DataTypes.createStructField("f", DataTypes.FloatType, true),
      DataTypes.createStructField("f_required", DataTypes.FloatType, false),
      new StructField("vec", DataTypes.createArrayType(DataTypes.FloatType, false), false, LINEAGE),
      DataTypes.createStructField("maybe", DataTypes.createArrayType(DataTypes.FloatType, false), true),
      DataTypes.createStructField("bag", DataTypes.createArrayType(DataTypes.FloatType, true), true)});

  @TempDir
  Path tmp;

  /** A float with the values Parquet's statistics treat specially now and then: NaN, both zeros, infinities. */
  private static float special(int i, int j) {
    int k = i * WIDTH + j;
    if (k % 17 == 0) {
      return Float.NaN;
    } else if (k % 19 == 0) {
      return -0.0f;
    } else if (k % 23 == 0) {
      return 0.0f;
    } else if (k % 29 == 0) {
      return Float.NEGATIVE_INFINITY;
    }
    return (float) Math.sin(k) * 1000f;
  }

  private static List<Row> rows(int count, boolean specials) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<Float> vec = new ArrayList<>();
      List<Float> maybe = new ArrayList<>();
      List<Float> bag = new ArrayList<>();
      for (int j = 0; j < WIDTH; j++) {
        vec.add(specials ? special(i, j) : (float) Math.cos(i * WIDTH + j) * 100f);
        maybe.add((float) (i - j));
        bag.add((i + j) % 5 == 0 ? null : (float) (i * 0.5 + j));
      }
      rows.add(RowFactory.create((long) i,
          i % 7 == 0 ? null : i % 2 == 0,
          i % 5 == 0 ? null : (byte) (i % 100),
          i % 5 == 1 ? null : (short) (i * 3),
          i % 5 == 2 ? null : i * 7,
          i % 5 == 3 ? null : i / 3.0,
          i % 11 == 0 ? null : "name-" + (i % 4),
          i % 13 == 0 ? null : new byte[] {(byte) i, (byte) (i >> 8)},
          i % 9 == 0 ? null : Date.valueOf("2026-01-01").toLocalDate().plusDays(i % 400).toString(),
          i % 3 == 0 ? null : specials ? special(i, 0) : (float) i,
          (float) -i,
          vec,
          i % 29 == 0 ? null : i % 31 == 0 ? List.of() : maybe,
          i % 37 == 0 ? null : i % 41 == 0 ? List.of() : bag));
    }
    return rows;
  }

  private Dataset<Row> frame(List<Row> rows, int partitions) {
    // Dates arrive as strings (RowFactory would need java.sql.Date in the row): cast keeps the schema's type.
    StructType withStringDay = new StructType(Arrays.stream(SCHEMA.fields())
        .map(f -> f.name().equals("day") ? DataTypes.createStructField("day", DataTypes.StringType, true) : f)
        .toArray(StructField[]::new));
    Dataset<Row> frame = spark.createDataFrame(rows, withStringDay).repartition(partitions, functions.col("id"));
    return frame.withColumn("day", functions.col("day").cast(DataTypes.DateType))
        .sortWithinPartitions("id");
  }

  private static Dataset<Row> readBack(Path folder, boolean vectorized) {
    spark.conf().set("spark.sql.parquet.enableVectorizedReader", String.valueOf(vectorized));
    try {
      return spark.read().parquet(folder.toString()).orderBy("id").localCheckpoint();
    } finally {
      spark.conf().unset("spark.sql.parquet.enableVectorizedReader");
    }
  }

  private static void writeWithSpark(Dataset<Row> frame, Path folder, ParquetLists lists) {
    Map<String, String> options = ParquetOutput.dictionaryOff(frame.schema(), List.of("f", "f_required", "vec",
        "maybe", "bag"), lists);
    ParquetOutput.withLists(spark, lists, () -> {
      frame.write().mode(SaveMode.ErrorIfExists).options(options).parquet(folder.toString());
      return null;
    });
  }

  @ParameterizedTest
  @EnumSource(ParquetLists.class)
  void writesTheFilesSparksWriterWrites(ParquetLists lists) {
    List<Row> rows = rows(3000, true);
    Dataset<Row> frame = frame(rows, 1);
    Path ours = tmp.resolve("ours");
    Path sparks = tmp.resolve("spark");

    long written = ColumnarParquetWriter.write(frame, ours.toString(), lists, Map.of());
    writeWithSpark(frame, sparks, lists);

    assertThat(written).isEqualTo(rows.size());
    ParquetFooters expected = ParquetFooters.of(sparks);
    ParquetFooters actual = ParquetFooters.of(ours);
    assertThat(actual.schema()).isEqualTo(expected.schema());
    ParquetMetadata ourFooter = ParquetFooters.of(ours).footers().get(0);
    ParquetMetadata sparkFooter = ParquetFooters.of(sparks).footers().get(0);
    assertThat(ourFooter.getFileMetaData().getKeyValueMetaData())
        .isEqualTo(sparkFooter.getFileMetaData().getKeyValueMetaData());
    for (ColumnChunkMetaData sparkChunk : sparkFooter.getBlocks().get(0).getColumns()) {
      String[] path = sparkChunk.getPath().toArray();
      ColumnChunkMetaData ourChunk = actual.chunks(path).get(0);
      assertThat(ourChunk.getValueCount()).as("values of %s", sparkChunk.getPath()).isEqualTo(
          sparkChunk.getValueCount());
      assertStatisticsEqual(ourChunk.getStatistics(), sparkChunk.getStatistics(), sparkChunk.getPath().toString());
    }
    // Floats are written plain; the kept string column keeps its dictionary.
    assertThat(actual.chunks(leaf(lists, "vec")).get(0).hasDictionaryPage()).isFalse();
    assertThat(actual.chunks("f").get(0).hasDictionaryPage()).isFalse();
    assertThat(actual.chunks("name").get(0).hasDictionaryPage()).isTrue();

    for (boolean vectorized : new boolean[] {true, false}) {
      Dataset<Row> back = readBack(ours, vectorized);
      Dataset<Row> sparkBack = readBack(sparks, vectorized);
      assertThat(back.schema()).isEqualTo(sparkBack.schema());
      assertThat(back.schema().apply("vec").metadata()).isEqualTo(LINEAGE);
      List<Row> actualRows = back.collectAsList();
      assertSameRows(actualRows, sparkBack.collectAsList(), "vectorized reader: " + vectorized);
      assertSameRows(actualRows, frame.orderBy("id").collectAsList(), "input");
    }
  }

  /**
   * Row by row, so that a failure shows the first row that differs rather than every row; floats by their bits
   * (Scala's sequences compare NaN unequal to itself, and -0.0 equal to 0.0), binary by content.
   */
  private static void assertSameRows(List<Row> actual, List<Row> expected, String what) {
    assertThat(actual).as("%s: rows", what).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(canonical(actual.get(i))).as("%s: row %d", what, i).isEqualTo(canonical(expected.get(i)));
    }
  }

  private static Object canonical(Object value) {
    if (value instanceof Row row) {
      List<Object> fields = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        fields.add(canonical(row.get(i)));
      }
      return fields;
    } else if (value instanceof scala.collection.Seq<?> seq) {
      List<Object> elements = new ArrayList<>();
      scala.jdk.javaapi.CollectionConverters.asJava(seq).forEach(e -> elements.add(canonical(e)));
      return elements;
    } else if (value instanceof Float f) {
      return "float:" + Integer.toHexString(Float.floatToIntBits(f)) + " (" + f + ")";
    } else if (value instanceof byte[] bytes) {
      return "binary:" + Arrays.toString(bytes);
    }
    return value;
  }

  private static String[] leaf(ParquetLists lists, String column) {
    return lists == ParquetLists.TWO_LEVEL ? new String[] {column, "array"}
        : new String[] {column, "list", "element"};
  }

  private static void assertStatisticsEqual(Statistics<?> actual, Statistics<?> expected, String column) {
    assertThat(actual.getNumNulls()).as("nulls of %s", column).isEqualTo(expected.getNumNulls());
    assertThat(actual.hasNonNullValue()).as("has values: %s", column).isEqualTo(expected.hasNonNullValue());
    if (expected.hasNonNullValue()) {
      assertThat(actual.getMinBytes()).as("min of %s: %s", column, actual).isEqualTo(expected.getMinBytes());
      assertThat(actual.getMaxBytes()).as("max of %s: %s", column, actual).isEqualTo(expected.getMaxBytes());
    }
  }

  @Test
  void takesTheRowsOfAnRddFrameWithoutSparksCopyAndWritesTheSameFiles() {
    // The rows as an RDD of external rows holds them (dates as java.sql.Date, arrays as Scala sequences), under a
    // projection that renames and adds metadata.
    List<Row> rows = rows(500, true).stream().map(row -> {
      Object[] values = new Object[row.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = row.get(i) instanceof List<?> list
            ? scala.jdk.javaapi.CollectionConverters.asScala(list).toSeq() : row.get(i);
      }
      values[8] = values[8] == null ? null : Date.valueOf((String) values[8]);
      return RowFactory.create(values);
    }).toList();
    Dataset<Row> fromRdd = spark.createDataFrame(
        new org.apache.spark.api.java.JavaSparkContext(spark.sparkContext()).parallelize(rows, 3), SCHEMA)
        .withMetadata("maybe", LINEAGE).withColumnRenamed("bag", "bag_renamed").select("bag_renamed", "id", "vec",
            "maybe", "day", "name", "f");
    assertThat(RowSource.of(fromRdd).direct()).isTrue();
    assertThat(RowSource.of(fromRdd.filter("id > 3")).direct()).isFalse();
    assertThat(RowSource.of(frame(rows(3, false), 1)).direct()).isFalse();
    Path ours = tmp.resolve("from-rdd");
    Path sparks = tmp.resolve("from-rdd-spark");

    ColumnarParquetWriter.write(fromRdd, ours.toString(), ParquetLists.TWO_LEVEL, Map.of());
    Map<String, String> options = ParquetOutput.dictionaryOff(fromRdd.schema(), List.of("bag_renamed", "vec",
        "maybe", "f"), ParquetLists.TWO_LEVEL);
    ParquetOutput.withLists(spark, ParquetLists.TWO_LEVEL, () -> {
      fromRdd.write().options(options).parquet(sparks.toString());
      return null;
    });

    assertThat(ParquetFooters.of(ours).schema()).isEqualTo(ParquetFooters.of(sparks).schema());
    Dataset<Row> back = readBack(ours, true);
    assertThat(back.schema()).isEqualTo(readBack(sparks, true).schema());
    assertThat(back.schema().apply("maybe").metadata()).isEqualTo(LINEAGE);
    assertSameRows(back.collectAsList(), readBack(sparks, true).collectAsList(), "from an RDD");
    assertSameRows(back.collectAsList(), fromRdd.orderBy("id").collectAsList(), "input");
  }

  @Test
  void splitsPagesAndRowGroupsOnRowBoundaries() throws IOException {
    List<Row> rows = rows(5000, false);
    Dataset<Row> frame = frame(rows, 1);
    Path ours = tmp.resolve("small");

    ColumnarParquetWriter.write(frame, ours.toString(), ParquetLists.TWO_LEVEL, Map.of(
        "parquet.block.size", String.valueOf(96 * 1024), "parquet.page.size", "4096", "compression", "none"));

    List<BlockMetaData> groups = ParquetFooters.of(ours).footers().get(0).getBlocks();
    assertThat(groups).hasSizeGreaterThan(1);
    assertThat(groups.stream().mapToLong(BlockMetaData::getRowCount).sum()).isEqualTo(rows.size());
    Path file = ParquetFooters.partFiles(ours).get(0);
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
      for (ColumnChunkMetaData chunk : groups.get(0).getColumns()) {
        if (chunk.getPath().toDotString().equals("vec.array")) {
          OffsetIndex pages = reader.readOffsetIndex(chunk);
          assertThat(pages.getPageCount()).isGreaterThan(1);
          long rowsPerPage = pages.getFirstRowIndex(1) - pages.getFirstRowIndex(0);
          // 4096-byte pages of 16 floats a row: 64 whole rows each.
          assertThat(rowsPerPage).isEqualTo(4096 / (WIDTH * Float.BYTES));
        }
      }
    }
    for (boolean vectorized : new boolean[] {true, false}) {
      assertSameRows(readBack(ours, vectorized).collectAsList(), frame.orderBy("id").collectAsList(),
          "vectorized reader: " + vectorized);
    }
  }

  @Test
  void manyFloatColumnsShareOneBudgetOfBufferedPages() throws IOException {
    int columns = 512;
    List<org.apache.spark.sql.Column> select = new ArrayList<>();
    select.add(functions.col("id"));
    for (int j = 0; j < columns; j++) {
      select.add(functions.col("id").multiply(j + 1).cast(DataTypes.FloatType).as("y_" + j));
    }
    int rows = 20_000;
    Dataset<Row> wide = spark.range(0, rows, 1, 1).select(select.toArray(new org.apache.spark.sql.Column[0]));
    Path ours = tmp.resolve("wide");

    ColumnarParquetWriter.write(wide, ours.toString(), ParquetLists.TWO_LEVEL, Map.of("compression", "none"));

    // 512 columns of 80,000 bytes each would hold 40 MB at the default 1 MiB pages; the budget gives each 64 KiB.
    long perColumn = PartWriter.FLOAT_PAGE_BUDGET / columns;
    assertThat(perColumn).isLessThan(rows * Float.BYTES);
    Path file = ParquetFooters.partFiles(ours).get(0);
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
      ColumnChunkMetaData y0 = reader.getFooter().getBlocks().get(0).getColumns().get(1);
      OffsetIndex pages = reader.readOffsetIndex(y0);
      assertThat(pages.getPageCount()).isEqualTo((int) Math.ceil(rows * (double) Float.BYTES / perColumn));
    }
    assertSameRows(readBack(ours, true).collectAsList(), wide.orderBy("id").collectAsList(), "wide");
  }

  /** Sums the output metrics of the tasks that end while it listens. */
  private static final class TaskOutputs extends org.apache.spark.scheduler.SparkListener {
    final java.util.concurrent.atomic.LongAdder records = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder bytes = new java.util.concurrent.atomic.LongAdder();

    @Override
    public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
      if (end.taskMetrics() != null) {
        records.add(end.taskMetrics().outputMetrics().recordsWritten());
        bytes.add(end.taskMetrics().outputMetrics().bytesWritten());
      }
    }
  }

  @Test
  void writesOneFilePerNonEmptyPartitionAndCommitsThem() throws Exception {
    Dataset<Row> frame = frame(rows(200, false), 4).filter("id % 4 != 1");
    long partitionsWithRows = frame.javaRDD().mapPartitions(it -> List.of(it.hasNext() ? 1 : 0).iterator())
        .collect().stream().mapToInt(Integer::intValue).sum();
    Path ours = tmp.resolve("parts");
    TaskOutputs outputs = new TaskOutputs();
    spark.sparkContext().listenerBus().waitUntilEmpty();
    spark.sparkContext().addSparkListener(outputs);

    long written = ColumnarParquetWriter.write(frame, ours.toString(), ParquetLists.TWO_LEVEL, Map.of());

    assertThat(written).isEqualTo(150);
    assertThat(ParquetFooters.partFiles(ours)).hasSize((int) partitionsWithRows);
    // The tasks report what they wrote, as Spark's writer does (the Spark UI's output column).
    spark.sparkContext().listenerBus().waitUntilEmpty();
    assertThat(outputs.records.sum()).isEqualTo(150);
    long bytes = 0;
    for (Path part : ParquetFooters.partFiles(ours)) {
      bytes += Files.size(part);
    }
    assertThat(outputs.bytes.sum()).isEqualTo(bytes);
    assertThat(ParquetFooters.partFiles(ours)).allSatisfy(f -> assertThat(f.getFileName().toString())
        .matches("part-\\d{5}-[0-9a-f-]{36}-c000\\.snappy\\.parquet"));
    assertThat(ours.resolve("_SUCCESS")).exists();
    assertThat(ours.resolve("_temporary")).doesNotExist();
    spark.sparkContext().removeSparkListener(outputs);
    assertSameRows(readBack(ours, true).collectAsList(), frame.orderBy("id").collectAsList(), "read back");
  }

  @Test
  void writesTheSchemaAloneWhenEveryPartitionIsEmpty() throws IOException {
    Dataset<Row> frame = frame(rows(50, false), 3).filter("id < 0");
    Path ours = tmp.resolve("empty");

    assertThat(ColumnarParquetWriter.write(frame, ours.toString(), ParquetLists.TWO_LEVEL, Map.of())).isZero();

    assertThat(ParquetFooters.partFiles(ours)).hasSize(1);
    Dataset<Row> back = spark.read().parquet(ours.toString());
    assertThat(back.count()).isZero();
    assertThat(back.schema()).isEqualTo(readBackSchemaOfSparksWrite(frame));
  }

  private StructType readBackSchemaOfSparksWrite(Dataset<Row> frame) {
    Path sparks = tmp.resolve("spark-empty");
    writeWithSpark(frame, sparks, ParquetLists.TWO_LEVEL);
    return spark.read().parquet(sparks.toString()).schema();
  }

  @Test
  void commitsEveryTaskThroughTheSessionsCommitProtocol() {
    Dataset<Row> frame = frame(rows(200, false), 4).filter("id % 4 != 1");
    // Empty, but not as far as the optimizer can tell: three tasks run and find no rows.
    Dataset<Row> empty = spark.range(0, 30, 1, 3).toDF().where("id * rand() < -1");
    int partitions = frame.rdd().getNumPartitions();
    int emptyPartitions = empty.rdd().getNumPartitions();
    RecordingCommitProtocol.clear();
    spark.conf().set("spark.sql.sources.commitProtocolClass", RecordingCommitProtocol.class.getName());
    try {
      ColumnarParquetWriter.write(frame, tmp.resolve("recorded").toString(), ParquetLists.TWO_LEVEL, Map.of());
      ColumnarParquetWriter.write(empty, tmp.resolve("recorded-empty").toString(), ParquetLists.TWO_LEVEL, Map.of());
    } finally {
      spark.conf().unset("spark.sql.sources.commitProtocolClass");
    }

    // Every partition's task committed, empty or not; with no rows at all, one more task wrote the schema alone.
    assertThat(RecordingCommitProtocol.jobs()).extracting(CommittedJob::messages, CommittedJob::committedPartitions)
        .containsExactly(tuple(partitions, partitionIds(partitions)),
            tuple(emptyPartitions + 1, partitionIds(emptyPartitions)));
    assertThat(RecordingCommitProtocol.jobs()).extracting(CommittedJob::path)
        .satisfiesExactly(p -> assertThat(p).endsWith("/recorded"), p -> assertThat(p).endsWith("/recorded-empty"));
    assertThat(spark.read().parquet(tmp.resolve("recorded").toString()).count()).isEqualTo(150);
    assertThat(ParquetFooters.partFiles(tmp.resolve("recorded-empty"))).hasSize(1);
  }

  private static Set<Integer> partitionIds(int partitions) {
    return IntStream.range(0, partitions).boxed().collect(Collectors.toSet());
  }

  @Test
  void failedWriteLeavesNoOutput() {
    spark.udf().register("failAt", (UDF1<Long, Long>) id -> {
      if (id == 120) {
        throw new IllegalStateException("row 120 is bad");
      }
      return id;
    }, DataTypes.LongType);
    Dataset<Row> frame = frame(rows(200, false), 2).withColumn("id", functions.callUDF("failAt", functions.col("id")));
    Path ours = tmp.resolve("failed");

    assertThatThrownBy(() -> ColumnarParquetWriter.write(frame, ours.toString(), ParquetLists.TWO_LEVEL, Map.of()))
        .hasStackTraceContaining("row 120 is bad");

    assertThat(ours).doesNotExist();
  }

  @Test
  void refusesAnExistingPath() throws IOException {
    Path existing = Files.createDirectories(tmp.resolve("there"));
    Files.writeString(existing.resolve("keep.txt"), "mine");

    assertThatThrownBy(() -> ColumnarParquetWriter.write(frame(rows(3, false), 1), existing.toString(),
        ParquetLists.TWO_LEVEL, Map.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already exists");
    assertThat(existing.resolve("keep.txt")).hasContent("mine");
  }

  @Test
  void namesTheFirstColumnItCannotWrite() {
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("amount", new DecimalType(10, 2))
        .add("at", DataTypes.TimestampType)
        .add("doubles", DataTypes.createArrayType(DataTypes.DoubleType));
    assertThat(ColumnarParquetWriter.unsupported(schema)).contains("column amount is DECIMAL(10,2)");
    assertThat(ColumnarParquetWriter.unsupported(new StructType().add("at", DataTypes.TimestampType)))
        .contains("column at is TIMESTAMP");
    assertThat(ColumnarParquetWriter.unsupported(
        new StructType().add("doubles", DataTypes.createArrayType(DataTypes.DoubleType))))
        .contains("column doubles is ARRAY<DOUBLE>");
    assertThat(ColumnarParquetWriter.unsupported(SCHEMA)).isEmpty();

    Dataset<Row> frame = spark.sql("SELECT 1L AS id, TIMESTAMP '2026-01-01 00:00:00' AS at");
    assertThatThrownBy(() -> ColumnarParquetWriter.write(frame, tmp.resolve("ts").toString(),
        ParquetLists.TWO_LEVEL, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ColumnarParquetWriter cannot write column at is TIMESTAMP; write this DataFrame with Spark's"
            + " writer instead");
    assertThat(tmp.resolve("ts")).doesNotExist();
  }

  @Test
  void compressesWithTheCodecAsked() throws IOException {
    Dataset<Row> frame = frame(rows(100, false), 1);
    Path zstd = tmp.resolve("zstd");
    Path none = tmp.resolve("none");

    ColumnarParquetWriter.write(frame, zstd.toString(), ParquetLists.TWO_LEVEL, Map.of("compression", "zstd"));
    ColumnarParquetWriter.write(frame, none.toString(), ParquetLists.TWO_LEVEL, Map.of("compression", "none"));

    assertThat(ParquetFooters.partFiles(zstd).get(0).getFileName().toString()).endsWith("-c000.zstd.parquet");
    assertThat(ParquetFooters.of(zstd).chunks("vec", "array").get(0).getCodec()).isEqualTo(CompressionCodecName.ZSTD);
    assertThat(ParquetFooters.partFiles(none).get(0).getFileName().toString()).endsWith("-c000.parquet");
    assertThat(ParquetFooters.of(none).chunks("vec", "array").get(0).getCodec())
        .isEqualTo(CompressionCodecName.UNCOMPRESSED);
    assertSameRows(readBack(zstd, true).collectAsList(), readBack(none, true).collectAsList(), "zstd vs none");
    assertThatThrownBy(() -> ColumnarParquetWriter.write(frame, tmp.resolve("bad").toString(),
        ParquetLists.TWO_LEVEL, Map.of("compression", "zip")))
        .isInstanceOf(IllegalArgumentException.class)
        // Spark's own words for the mistake, as its Parquet writer gives them.
        .hasMessage("[CODEC_NOT_AVAILABLE.WITH_AVAILABLE_CODECS_SUGGESTION] The codec zip is not available."
            + " Available codecs are brotli, uncompressed, lzo, snappy, lz4_raw, none, zstd, lz4, gzip."
            + " SQLSTATE: 56038");
  }

  /** Feature {@code j} of row {@code id}: NaN, zeros of both signs and infinities now and then. */
  private static float feature(long id, int j) {
    long k = id * WIDTH + j;
    return k % 101 == 0 ? Float.NaN : k % 13 == 0 ? -0.0f : k % 17 == 0 ? 0.0f : k % 211 == 0
        ? Float.POSITIVE_INFINITY : k % 223 == 0 ? Float.NEGATIVE_INFINITY : (float) Math.sin(k) * 10f;
  }

  /** Whether row {@code id} has no features: every 97th row, and rows 200 to 299 (two whole blocks of 50). */
  private static boolean invalid(long id) {
    return id % 97 == 5 || (id >= 200 && id < 300);
  }

  /**
   * A module's output, read in place from its output block, is written a run of rows at a time: the files are byte
   * for byte those the same rows make written one by one (through a checkpoint, whose rows are Spark's), and read back
   * by Spark every value is the module's, by its bits. Identity passes the features through, so the expected values
   * are the features themselves. Blocks of 50 rows span pages of 32 rows; row groups end every few thousand rows.
   */
  @ParameterizedTest
  @CsvSource({"keep, rows", "skip, rows", "keep, parquet", "error, parquet"})
  void writesAModulesOutputInRunsAsItsRowsOneByOne(String handleInvalid, String source) {
    boolean nulls = !handleInvalid.equals("error");
    int count = 6000;
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < count; id++) {
      List<Float> features = new ArrayList<>();
      for (int j = 0; j < WIDTH; j++) {
        features.add(feature(id, j));
      }
      rows.add(RowFactory.create(id, "row " + id % 7, nulls && invalid(id) ? null : features));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("name", DataTypes.StringType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    Dataset<Row> input = spark.createDataFrame(rows, schema).coalesce(2);
    if (source.equals("parquet")) {
      input.write().parquet(tmp.resolve("input").toString());
      input = spark.read().parquet(tmp.resolve("input").toString());
    }
    Dataset<Row> output = new ModuleTransformer(new Identity(), WIDTH, WIDTH).setInputCol("features")
        .setHandleInvalid(handleInvalid).setBlockMaxRows(50).transform(input);
    Map<String, String> options = Map.of("parquet.page.size", String.valueOf(32 * WIDTH * Float.BYTES),
        "parquet.block.size", String.valueOf(64 * 1024));
    Path inRuns = tmp.resolve("in-runs");
    Path oneByOne = tmp.resolve("one-by-one");

    // The writer's tasks get the transformer's own rows, which come in runs.
    RowSource rowSource = RowSource.of(output);
    assertThat(rowSource.direct()).isTrue();
    assertThat(rowSource.rows().toJavaRDD().mapPartitions(it -> List.of(it instanceof FloatListRuns).iterator())
        .collect()).containsOnly(true);
    ColumnarParquetWriter.write(output, inRuns.toString(), ParquetLists.TWO_LEVEL, options);
    Dataset<Row> checkpointed = output.localCheckpoint();
    assertThat(checkpointed.queryExecution().toRdd().toJavaRDD()
        .mapPartitions(it -> List.of(it instanceof FloatListRuns).iterator()).collect()).containsOnly(false);
    ColumnarParquetWriter.write(checkpointed, oneByOne.toString(), ParquetLists.TWO_LEVEL, options);

    List<Path> files = ParquetFooters.partFiles(inRuns);
    List<Path> expectedFiles = ParquetFooters.partFiles(oneByOne);
    assertThat(files).hasSize(2).hasSameSizeAs(expectedFiles);
    for (int i = 0; i < files.size(); i++) {
      try {
        assertThat(Files.readAllBytes(files.get(i))).as("file %d", i).isEqualTo(Files.readAllBytes(expectedFiles.get(i)));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    assertThat(ParquetFooters.of(inRuns).footers().get(0).getBlocks()).hasSizeGreaterThan(1);

    List<Row> back = readBack(inRuns, true).collectAsList();
    List<Long> expectedIds = IntStream.range(0, count).mapToObj(i -> (long) i)
        .filter(id -> !(handleInvalid.equals("skip") && invalid(id))).toList();
    assertThat(back).extracting(row -> row.getLong(0)).isEqualTo(expectedIds);
    for (Row row : back) {
      long id = row.getLong(0);
      assertThat(row.getString(1)).isEqualTo("row " + id % 7);
      if (nulls && invalid(id)) {
        assertThat(row.isNullAt(2)).as("output of row %d", id).isTrue();
        continue;
      }
      List<Float> out = row.getList(2);
      int[] bits = out.stream().mapToInt(Float::floatToRawIntBits).toArray();
      int[] expected = IntStream.range(0, WIDTH).map(j -> Float.floatToRawIntBits(feature(id, j))).toArray();
      assertThat(bits).as("output of row %d", id).isEqualTo(expected);
    }
  }
}
