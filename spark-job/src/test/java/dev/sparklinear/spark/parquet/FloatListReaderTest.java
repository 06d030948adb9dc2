package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link FloatListReader} against Spark's own Parquet reader on the same files, value for value (float bits: NaN and
 * -0.0 included), for the layouts, encodings, page versions and codecs writers use, and over any split of a file.
 */
class FloatListReaderTest extends LocalSpark {
  private static final int WIDTH = 8;

  @TempDir
  Path dir;

  /** Rows of WIDTH floats; with {@code invalid}, also null lists, null elements and lists of other widths. */
  private static List<Row> rows(int n, boolean fewDistinct, boolean invalid) {
    Random random = new Random(11);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Float> x = new ArrayList<>();
      int width = invalid && i % 37 == 5 ? WIDTH + 1 - (i % 3) * 2 : WIDTH;
      for (int k = 0; k < width; k++) {
        float v = fewDistinct ? random.nextInt(5) - 2f : (float) random.nextGaussian();
        x.add(i % 97 == 3 && k == 2 ? Float.NaN : i % 89 == 4 && k == 1 ? -0f : v);
      }
      if (invalid && i % 41 == 7) {
        x.set(3, null);
      }
      rows.add(RowFactory.create((long) i, invalid && i % 43 == 9 ? null : x));
    }
    return rows;
  }

  private static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType, false)
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, true));

  /** Writes the rows with Spark's writer and these writer options into one file; returns its path. */
  private Path writeWithSpark(String name, List<Row> rows, Map<String, String> options) throws IOException {
    Path out = dir.resolve(name);
    spark.createDataFrame(rows, SCHEMA).coalesce(1).write().options(options).parquet(out.toString());
    try (Stream<Path> files = Files.list(out)) {
      return files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
  }

  /** The features of a file as Spark reads them: one entry per row, the float bits (null for a null). */
  private static List<List<Integer>> sparkRead(Path file) {
    List<List<Integer>> out = new ArrayList<>();
    for (Row row : spark.read().parquet(file.toString()).select("features").collectAsList()) {
      if (row.isNullAt(0)) {
        out.add(null);
        continue;
      }
      List<Integer> bits = new ArrayList<>();
      for (Object v : row.getList(0)) {
        bits.add(v == null ? null : Float.floatToRawIntBits((Float) v));
      }
      out.add(bits);
    }
    return out;
  }

  /** Spark's vectorized reader refuses BYTE_STREAM_SPLIT ("Unsupported encoding"); its parquet-mr row reader reads it. */
  private static List<List<Integer>> sparkRowReaderRead(Path file) {
    spark.conf().set("spark.sql.parquet.enableVectorizedReader", "false");
    try {
      return sparkRead(file);
    } finally {
      spark.conf().unset("spark.sql.parquet.enableVectorizedReader");
    }
  }

  /** The features as our reader reads them over the splits {@code [cuts[i], cuts[i+1])}, {@code chunk} rows a call. */
  private static List<List<Integer>> ourRead(Path file, long[] cuts, int chunk) throws IOException {
    Configuration conf = new Configuration();
    List<List<Integer>> out = new ArrayList<>();
    long address = Platform.allocateMemory(4L * WIDTH * chunk);
    try {
      for (int s = 0; s + 1 < cuts.length; s++) {
        try (FloatListReader reader = FloatListReader.open(conf, new org.apache.hadoop.fs.Path(file.toUri()),
            cuts[s], cuts[s + 1] - cuts[s], "features", WIDTH)) {
          long left = reader.totalRows();
          while (left > 0) {
            int n = (int) Math.min(chunk, left);
            boolean clean = reader.readRows(n, address);
            assertThat(clean).isEqualTo(reader.uncleanRows() == 0);
            int u = 0;
            for (int r = 0; r < n; r++) {
              if (u < reader.uncleanRows() && reader.uncleanRow(u) == r) {
                int length = reader.uncleanLength(u);
                List<Integer> bits = null;
                if (length >= 0) {
                  bits = new ArrayList<>();
                  for (int e = 0; e < length; e++) {
                    bits.add(reader.uncleanIsNull(u, e) ? null : Float.floatToRawIntBits(reader.uncleanValue(u, e)));
                  }
                }
                out.add(bits);
                u++;
              } else {
                List<Integer> bits = new ArrayList<>();
                for (int k = 0; k < WIDTH; k++) {
                  bits.add(Float.floatToRawIntBits(Platform.getFloat(null, address + 4L * (r * WIDTH + k))));
                }
                out.add(bits);
              }
            }
            left -= n;
          }
          assertThat(reader.rowsRead()).isEqualTo(reader.totalRows());
          assertThatThrownBy(() -> reader.readRows(1, address)).isInstanceOf(IllegalStateException.class)
              .hasMessageContaining("fewer than the other columns");
        }
      }
    } finally {
      Platform.freeMemory(address);
    }
    return out;
  }

  private static long[] whole(Path file) throws IOException {
    return new long[] {0, Files.size(file)};
  }

  static Stream<Arguments> sparkWriterOptions() {
    return Stream.of(
        Arguments.of("snappy", false, Map.of()),
        Arguments.of("gzip", false, Map.of("compression", "gzip")),
        Arguments.of("zstd", false, Map.of("compression", "zstd")),
        Arguments.of("uncompressed", false, Map.of("compression", "none")),
        Arguments.of("dictionary", true, Map.of()),
        Arguments.of("dictionary-v2", true, Map.of("parquet.writer.version", "v2")),
        Arguments.of("page-v2", false, Map.of("parquet.writer.version", "v2")),
        Arguments.of("no-dictionary", false, Map.of("parquet.enable.dictionary", "false")),
        Arguments.of("byte-stream-split", false, Map.of("parquet.enable.dictionary", "false",
            "parquet.enable.bytestreamsplit", "true")),
        Arguments.of("small-pages", false, Map.of("parquet.page.size", "512", "parquet.block.size", "8192",
            "parquet.page.size.row.check.min", "4", "parquet.page.size.row.check.max", "16")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sparkWriterOptions")
  void readsWhatSparkReads(String name, boolean fewDistinct, Map<String, String> options) throws IOException {
    for (boolean invalid : new boolean[] {false, true}) {
      Path file = writeWithSpark(name + "-" + invalid, rows(3000, fewDistinct, invalid), options);
      List<List<Integer>> expected = name.equals("byte-stream-split") ? sparkRowReaderRead(file) : sparkRead(file);
      assertThat(expected).hasSize(3000);
      assertThat(ourRead(file, whole(file), 700)).isEqualTo(expected);
      assertThat(ourRead(file, whole(file), 1)).isEqualTo(expected);
    }
  }

  @Test
  void writerOptionsReachTheFiles() throws IOException {
    // The cases above are only worth their names if the files hold what they say.
    assertThat(encodings(writeWithSpark("dict", rows(500, true, false), Map.of()))).contains("PLAIN_DICTIONARY");
    assertThat(encodings(writeWithSpark("bss", rows(500, false, false), Map.of("parquet.enable.dictionary", "false",
        "parquet.enable.bytestreamsplit", "true")))).contains("BYTE_STREAM_SPLIT");
    Path small = writeWithSpark("small", rows(3000, false, false), Map.of("parquet.block.size", "8192"));
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(small.toUri()), new Configuration()))) {
      assertThat(reader.getRowGroups()).hasSizeGreaterThan(3);
    }
  }

  private static String encodings(Path file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
      return reader.getRowGroups().stream().flatMap(g -> g.getColumns().stream())
          .filter(c -> c.getPath().toDotString().startsWith("features"))
          .map(ColumnChunkMetaData::getEncodings).toList().toString();
    }
  }

  @Test
  void readsSparksLegacyListLayout() throws IOException {
    spark.conf().set("spark.sql.parquet.writeLegacyFormat", "true");
    try {
      Path file = writeWithSpark("legacy", rows(2000, false, true), Map.of());
      assertThat(schemaOf(file)).contains("repeated group bag");
      assertThat(ourRead(file, whole(file), 300)).isEqualTo(sparkRead(file));
    } finally {
      spark.conf().unset("spark.sql.parquet.writeLegacyFormat");
    }
  }

  @Test
  void readsTwoLevelLists() throws IOException {
    MessageType schema = MessageTypeParser.parseMessageType("message m { required int64 id;"
        + " optional group features (LIST) { repeated float array; } }");
    Path file = dir.resolve("two-level.parquet");
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    Random random = new Random(5);
    try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(file.toUri()))
        .withType(schema).withRowGroupSize(4096L).withPageSize(256)
        .withWriterVersion(ParquetProperties.WriterVersion.PARQUET_1_0).build()) {
      for (int i = 0; i < 1500; i++) {
        Group row = groups.newGroup().append("id", (long) i);
        if (i % 31 != 4) {
          Group list = row.addGroup("features");
          int width = i % 29 == 3 ? 0 : i % 23 == 2 ? WIDTH + 2 : WIDTH;
          for (int k = 0; k < width; k++) {
            list.append("array", (float) random.nextGaussian());
          }
        }
        writer.write(row);
      }
    }
    List<List<Integer>> expected = sparkRead(file);
    assertThat(expected).contains(List.of()).containsNull();
    assertThat(ourRead(file, whole(file), 256)).isEqualTo(expected);
  }

  @Test
  void splitsTakeTheRowGroupsWhoseMidpointTheyHold() throws IOException {
    Path file = writeWithSpark("splits", rows(5000, false, true), Map.of("parquet.block.size", "8192"));
    List<List<Integer>> expected = sparkRead(file);
    long size = Files.size(file);
    for (long split : new long[] {1000, 4096, 7777, size / 3}) {
      List<Long> cuts = new ArrayList<>();
      for (long at = 0; at < size; at += split) {
        cuts.add(at);
      }
      cuts.add(size);
      long[] bounds = cuts.stream().mapToLong(Long::longValue).toArray();
      assertThat(ourRead(file, bounds, 333)).as("splits of %d bytes", split).isEqualTo(expected);
    }
  }

  @Test
  void fileWithoutTheColumnGivesNullLists() throws IOException {
    Path out = dir.resolve("no-features");
    spark.range(10).coalesce(1).write().parquet(out.toString());
    Path file;
    try (Stream<Path> files = Files.list(out)) {
      file = files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    List<List<Integer>> nulls = Arrays.asList(new List[10]);
    assertThat(ourRead(file, whole(file), 4)).isEqualTo(nulls);
  }

  @Test
  void refusesAColumnThatIsNotAListOfFloats() throws IOException {
    Path out = dir.resolve("doubles");
    spark.sql("SELECT array(1.0D, 2.0D) AS features").write().parquet(out.toString());
    Path file;
    try (Stream<Path> files = Files.list(out)) {
      file = files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    assertThatThrownBy(() -> FloatListReader.open(new Configuration(), new org.apache.hadoop.fs.Path(file.toUri()), 0,
        Files.size(file), "features", 2))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("Cannot read column 'features' of")
        .hasMessageContaining("double")
        .hasMessageContaining("input.parquet-reader: spark");
  }

  private static String schemaOf(Path file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
      return reader.getFooter().getFileMetaData().getSchema().toString();
    }
  }
}
