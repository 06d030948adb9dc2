package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.impl.ColumnReaderImpl;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.column.page.PageWriter;
import org.apache.parquet.column.statistics.FloatStatistics;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.execution.datasources.parquet.SparkToParquetSchemaConverter;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pages a {@link FloatColumn} writes, read back with Parquet's own column reader: the levels and values (floats
 * by their bits) the Dremel rules give for each row, pages ending on row boundaries, the last page partial, and page
 * statistics equal to what Parquet's statistics make of the same values one by one. Runs of lists added from a block
 * give the very pages their rows give added one by one.
 */
class FloatColumnTest {
  /** A NaN other than Java's canonical one: its payload must survive. */
  private static final float PAYLOAD_NAN = Float.intBitsToFloat(0x7fc00123);

  /** One page as the column handed it over. */
  private record Page(byte[] bytes, int entries, int rows, Statistics<?> statistics, Encoding repetition,
      Encoding definition, Encoding values) {
  }

  /** Keeps every page handed to it, copied (the column reuses its buffers). */
  private static final class PageRecorder implements PageWriter {
    final List<Page> pages = new ArrayList<>();

    @Override
    public void writePage(BytesInput bytes, int valueCount, int rowCount, Statistics<?> statistics,
        Encoding rlEncoding, Encoding dlEncoding, Encoding valuesEncoding) throws IOException {
      pages.add(new Page(bytes.toByteArray(), valueCount, rowCount, statistics, rlEncoding, dlEncoding,
          valuesEncoding));
    }

    @Override
    public void writePage(BytesInput bytes, int valueCount, Statistics<?> statistics, Encoding rlEncoding,
        Encoding dlEncoding, Encoding valuesEncoding) {
      throw new UnsupportedOperationException("pages without a row count");
    }

    @Override
    public void writePageV2(int rowCount, int nullCount, int valueCount, BytesInput repetitionLevels,
        BytesInput definitionLevels, Encoding dataEncoding, BytesInput data, Statistics<?> statistics) {
      throw new UnsupportedOperationException("version 2 pages");
    }

    @Override
    public long getMemSize() {
      return 0;
    }

    @Override
    public long allocatedSize() {
      return 0;
    }

    @Override
    public void writeDictionaryPage(DictionaryPage dictionaryPage) {
      throw new UnsupportedOperationException("dictionary pages");
    }

    @Override
    public String memUsageString(String prefix) {
      return prefix;
    }
  }

  /** The Parquet leaf Spark's writer makes for a column {@code type}, in the two-level or three-level list layout. */
  private static ColumnDescriptor leaf(DataType type, boolean nullable, boolean twoLevel) {
    SQLConf conf = new SQLConf();
    conf.setConfString("spark.sql.parquet.writeLegacyFormat", String.valueOf(twoLevel));
    return new SparkToParquetSchemaConverter(conf).convert(new StructType().add("c", type, nullable))
        .getColumns().get(0);
  }

  /** Writes {@code rows} (column 0 of each) through a column with pages of {@code pageBytes}, then flushes. */
  private static List<Page> write(ColumnDescriptor leaf, DataType type, boolean nullable, int pageBytes,
      List<InternalRow> rows) throws IOException {
    boolean list = FloatColumn.isFloatList(type);
    boolean elementsNullable = list && ((ArrayType) type).containsNull();
    FloatColumn column = new FloatColumn(0, list, elementsNullable, leaf, nullable, pageBytes,
        new FloatColumn.Scratch());
    PageRecorder recorder = new PageRecorder();
    column.startRowGroup(recorder);
    for (InternalRow row : rows) {
      column.add(row);
    }
    column.flushPage();
    column.flushPage(); // nothing buffered: no page
    return recorder.pages;
  }

  /** One entry as Parquet's reader gives it back: levels, and the value's bits when it is defined. */
  private static String entry(int repetition, int definition, Float value) {
    return "r" + repetition + " d" + definition + (value == null ? "" : " " + Integer.toHexString(
        Float.floatToRawIntBits(value)));
  }

  /** The entries of one page, decoded by Parquet's {@link ColumnReaderImpl}. */
  private static List<String> read(ColumnDescriptor leaf, Page page) {
    DataPageV1 data = new DataPageV1(BytesInput.from(page.bytes()), page.entries(), page.bytes().length,
        page.statistics(), page.repetition(), page.definition(), page.values());
    PageReader pages = new PageReader() {
      private boolean read;

      @Override
      public DictionaryPage readDictionaryPage() {
        return null;
      }

      @Override
      public long getTotalValueCount() {
        return page.entries();
      }

      @Override
      public DataPage readPage() {
        DataPage next = read ? null : data;
        read = true;
        return next;
      }
    };
    ColumnReaderImpl reader = new ColumnReaderImpl(leaf, pages, new PrimitiveConverter() { }, null);
    List<String> entries = new ArrayList<>();
    for (long i = 0; i < reader.getTotalValueCount(); i++) {
      int definition = reader.getCurrentDefinitionLevel();
      boolean defined = definition == leaf.getMaxDefinitionLevel();
      entries.add(entry(reader.getCurrentRepetitionLevel(), definition, defined ? reader.getFloat() : null));
      reader.consume();
    }
    return entries;
  }

  /** Parquet's statistics of the page's entries, each value handed over one by one. */
  private static Statistics<?> reference(ColumnDescriptor leaf, List<String> entries) {
    FloatStatistics stats = (FloatStatistics) Statistics.createStats(leaf.getPrimitiveType());
    for (String entry : entries) {
      String[] parts = entry.split(" ");
      if (parts.length == 3) {
        stats.updateStats(Float.intBitsToFloat(Integer.parseUnsignedInt(parts[2], 16)));
      } else {
        stats.incrementNumNulls();
      }
    }
    return stats;
  }

  /** Reads every page, checks each one's statistics against Parquet's own, and gives all entries in order. */
  private static List<String> readAll(ColumnDescriptor leaf, List<Page> pages) {
    List<String> all = new ArrayList<>();
    for (int i = 0; i < pages.size(); i++) {
      List<String> entries = read(leaf, pages.get(i));
      assertThat(entries.get(0)).as("page %d starts a row", i).startsWith("r0 ");
      Statistics<?> expected = reference(leaf, entries);
      Statistics<?> actual = pages.get(i).statistics();
      assertThat(actual.getNumNulls()).as("nulls of page %d", i).isEqualTo(expected.getNumNulls());
      assertThat(actual.hasNonNullValue()).as("page %d has values", i).isEqualTo(expected.hasNonNullValue());
      if (expected.hasNonNullValue()) {
        assertThat(actual.getMinBytes()).as("min of page %d: %s", i, actual).isEqualTo(expected.getMinBytes());
        assertThat(actual.getMaxBytes()).as("max of page %d: %s", i, actual).isEqualTo(expected.getMaxBytes());
      }
      all.addAll(entries);
    }
    return all;
  }

  private static InternalRow row(Object value) {
    return new GenericInternalRow(new Object[] {value});
  }

  @Test
  void nullableFloatsKeepNaNAndSignedZerosBitForBitOnPagesOfFourRows() throws IOException {
    Float[] values = {1f, null, Float.NaN, -0.0f, 0.0f, PAYLOAD_NAN, null, Float.NEGATIVE_INFINITY, 2.5f, -3f};
    List<InternalRow> rows = Arrays.stream(values).map(FloatColumnTest::row).toList();
    ColumnDescriptor leaf = leaf(DataTypes.FloatType, true, true);

    List<Page> pages = write(leaf, DataTypes.FloatType, true, 16, rows);

    // 16-byte pages hold four entries: two full pages, and the last two rows on a partial one.
    assertThat(pages).extracting(Page::rows).containsExactly(4, 4, 2);
    assertThat(pages).extracting(Page::entries).containsExactly(4, 4, 2);
    assertThat(pages).allSatisfy(p -> assertThat(List.of(p.repetition(), p.definition(), p.values()))
        .containsExactly(Encoding.BIT_PACKED, Encoding.RLE, Encoding.PLAIN));
    List<String> expected = Arrays.stream(values).map(v -> v == null ? entry(0, 0, null) : entry(0, 1, v)).toList();
    assertThat(readAll(leaf, pages)).isEqualTo(expected);
  }

  @Test
  void requiredFloatsHaveNoLevelsAndPagesOfOnlyPositiveValuesTakeTheQuickStatistics() throws IOException {
    List<Float> values = List.of(3f, 1f, 7f, 2f, 9f, 4f, 0.5f);
    ColumnDescriptor leaf = leaf(DataTypes.FloatType, false, true);

    List<Page> pages = write(leaf, DataTypes.FloatType, false, 12, values.stream().map(FloatColumnTest::row)
        .toList());

    assertThat(pages).extracting(Page::rows).containsExactly(3, 3, 1);
    // Without levels a page is its values alone: four little-endian bytes each.
    assertThat(pages.get(2).bytes()).containsExactly(0, 0, 0, 0x3f);
    assertThat(pages.get(0).definition()).isEqualTo(Encoding.BIT_PACKED);
    assertThat(readAll(leaf, pages)).isEqualTo(values.stream().map(v -> entry(0, 0, v)).toList());
  }

  /**
   * Pages of three values whose bounds are zeros of either sign, or which span zero: the quick statistics must give
   * each zero bound the sign Parquet's value-by-value comparison does (-0.0 below 0.0).
   */
  @Test
  void zeroBoundsTakeTheSignParquetGivesThemOnEveryPage() throws IOException {
    List<Float> values = List.of(
        -0.0f, 0.0f, 1f, // both zeros, min a zero: -0.0
        0.0f, 2f, -0.0f, // the same, +0.0 first
        0.0f, 3f, 4f, // only +0.0 as min
        -0.0f, 5f, 6f, // only -0.0 as min
        -1f, -0.0f, -2f, // only -0.0 as max
        -1f, 0.0f, -0.0f, // both zeros as max: +0.0
        -3f, 0.0f, 7f, // a zero inside the range
        -0.0f, -0.0f, -0.0f, // all -0.0
        0.0f, 0.0f, 0.0f, // all +0.0
        -5f, 8f, -6f); // spanning zero, no zero
    ColumnDescriptor leaf = leaf(DataTypes.FloatType, false, true);

    List<Page> pages = write(leaf, DataTypes.FloatType, false, 12, values.stream().map(FloatColumnTest::row)
        .toList());

    assertThat(pages).hasSize(10);
    assertThat(readAll(leaf, pages)).isEqualTo(values.stream().map(v -> entry(0, 0, v)).toList());
    assertThat(Float.floatToRawIntBits(((FloatStatistics) pages.get(0).statistics()).getMin()))
        .isEqualTo(Float.floatToRawIntBits(-0.0f));
    assertThat(Float.floatToRawIntBits(((FloatStatistics) pages.get(5).statistics()).getMax())).isZero();
  }

  /** An array in the form the rows hold it: Spark's binary format, a generic array, or a view over a vector. */
  private static ArrayData array(Float[] values, int form) {
    if (form == 0 && Arrays.stream(values).allMatch(v -> v != null)) {
      float[] plain = new float[values.length];
      for (int i = 0; i < plain.length; i++) {
        plain[i] = values[i];
      }
      return UnsafeArrayData.fromPrimitiveArray(plain);
    } else if (form == 1 || Arrays.stream(values).anyMatch(v -> v == null)) {
      return new GenericArrayData(values);
    }
    OnHeapColumnVector vector = new OnHeapColumnVector(values.length + 2, DataTypes.FloatType);
    for (int i = 0; i < values.length; i++) {
      vector.putFloat(i + 2, values[i]);
    }
    return new ColumnarArray(vector, 2, values.length);
  }

  @ParameterizedTest
  @CsvSource({"true, false, false", "true, false, true", "true, true, true", "false, false, false",
      "false, true, true"})
  void listsInEveryLayoutDecodeToTheirRowsLevels(boolean twoLevel, boolean containsNull, boolean nullable)
      throws IOException {
    DataType type = DataTypes.createArrayType(DataTypes.FloatType, containsNull);
    ColumnDescriptor leaf = leaf(type, nullable, twoLevel);
    int maxDefinition = (nullable ? 1 : 0) + 1 + (containsNull ? 1 : 0);
    assertThat(leaf.getMaxDefinitionLevel()).isEqualTo(maxDefinition);
    List<Float[]> lists = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      Float[] values = new Float[i % 4 == 3 ? 0 : 3];
      for (int j = 0; j < values.length; j++) {
        values[j] = containsNull && (i + j) % 5 == 0 ? null : j == 1 && i % 2 == 0 ? -0.0f : i * 10f + j;
      }
      lists.add(values);
    }
    lists.set(5, new Float[] {Float.NaN, PAYLOAD_NAN, 0.0f});
    if (nullable) {
      lists.set(7, null);
    }
    List<InternalRow> rows = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < lists.size(); i++) {
      Float[] values = lists.get(i);
      rows.add(row(values == null ? null : array(values, i % 3)));
      if (values == null) {
        expected.add(entry(0, 0, null));
      } else if (values.length == 0) {
        expected.add(entry(0, nullable ? 1 : 0, null));
      }
      for (int j = 0; values != null && j < values.length; j++) {
        expected.add(values[j] == null ? entry(j == 0 ? 0 : 1, maxDefinition - 1, null)
            : entry(j == 0 ? 0 : 1, maxDefinition, values[j]));
      }
    }

    List<Page> pages = write(leaf, type, nullable, 32, rows);

    // 32-byte pages: a page ends after the row that brings it to eight entries or more.
    assertThat(pages).extracting(Page::rows).containsExactly(3, 4, 4, 1);
    assertThat(pages).allSatisfy(p -> assertThat(List.of(p.repetition(), p.definition()))
        .containsExactly(Encoding.RLE, Encoding.RLE));
    assertThat(readAll(leaf, pages)).isEqualTo(expected);
  }

  /** A run of rows of the block, or one row of its own (which may be null) between runs. */
  private record Segment(int firstRow, int rows, boolean single, ArrayData array) {
    static Segment run(int firstRow, int rows) {
      return new Segment(firstRow, rows, false, null);
    }

    static Segment single(ArrayData array) {
      return new Segment(-1, 1, true, array);
    }
  }

  /** Block row {@code r} as the rows hold it when the block is read row by row: a view over a column vector. */
  private static ArrayData blockRow(FloatBlock block, int r) {
    float[] values = block.row(r);
    Float[] boxed = new Float[values.length];
    for (int j = 0; j < values.length; j++) {
      boxed[j] = values[j];
    }
    return array(boxed, 2);
  }

  /** Writes the segments, runs of block rows one row at a time or with {@code addRun}, then flushes. */
  private static List<Page> writeSegments(ColumnDescriptor leaf, DataType type, boolean nullable, int pageBytes,
      FloatBlock block, List<Segment> segments, boolean inRuns) throws IOException {
    boolean elementsNullable = ((ArrayType) type).containsNull();
    FloatColumn column = new FloatColumn(0, true, elementsNullable, leaf, nullable, pageBytes,
        new FloatColumn.Scratch());
    PageRecorder recorder = new PageRecorder();
    column.startRowGroup(recorder);
    assertThat(column.takesRunsOf(0)).isTrue();
    assertThat(column.takesRunsOf(1)).isFalse();
    for (Segment segment : segments) {
      if (segment.single()) {
        column.add(row(segment.array()));
      } else if (inRuns) {
        column.addRun(block, segment.firstRow(), segment.rows());
      } else {
        for (int r = segment.firstRow(); r < segment.firstRow() + segment.rows(); r++) {
          column.add(row(blockRow(block, r)));
        }
      }
    }
    column.flushPage();
    return recorder.pages;
  }

  /**
   * A value of row {@code r}: the first 16 rows hold NaN (Java's and one with a payload), infinities and zeros of
   * both signs, so their pages take Parquet's value-by-value statistics; the others zeros and plain values, whose
   * pages take the quick statistics with zero bounds now and then.
   */
  private static float runValue(int r, int j, int width) {
    int k = r * width + j;
    if (r < 16) {
      return k % 7 == 0 ? Float.NaN : k % 11 == 0 ? PAYLOAD_NAN : k % 13 == 0 ? Float.NEGATIVE_INFINITY
          : k % 5 == 0 ? -0.0f : k % 3 == 0 ? 0.0f : (r - 8) * 0.25f + j;
    }
    return k % 5 == 0 ? -0.0f : k % 9 == 0 ? 0.0f : k % 4 == 0 ? -(k * 0.5f) : k * 0.5f;
  }

  @ParameterizedTest
  @CsvSource({"true, false, false, 3", "true, false, true, 3", "false, true, true, 3", "false, false, false, 3",
      "true, false, true, 1", "true, false, false, 4", "false, true, true, 16"})
  void runsFromABlockWriteThePagesTheirRowsWriteOneByOne(boolean twoLevel, boolean containsNull, boolean nullable,
      int width) throws IOException {
    DataType type = DataTypes.createArrayType(DataTypes.FloatType, containsNull);
    ColumnDescriptor leaf = leaf(type, nullable, twoLevel);
    int rows = 40;
    try (BufferAllocator allocator = new RootAllocator();
        FloatBlock block = FloatBlock.allocate(allocator, rows, width)) {
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < width; j++) {
          block.set(r, j, runValue(r, j, width));
        }
      }
      // Between runs: a null row where the column may hold one, an empty list, a list of another width.
      ArrayData between = nullable ? null : new GenericArrayData(new Float[0]);
      ArrayData odd = containsNull ? new GenericArrayData(new Float[] {1f, null}) : array(new Float[] {7f, -0.0f}, 0);
      List<Segment> segments = List.of(
          Segment.run(0, 5), Segment.single(between), Segment.run(5, 1), Segment.run(6, 0), Segment.single(odd),
          Segment.single(new GenericArrayData(new Float[0])), Segment.run(6, 10), Segment.run(16, 17),
          Segment.single(odd), Segment.run(33, 7));

      // Pages of 32 bytes, 8 entries: most runs span a page boundary, and the last page is partial.
      List<Page> oneByOne = writeSegments(leaf, type, nullable, 32, block, segments, false);
      List<Page> inRuns = writeSegments(leaf, type, nullable, 32, block, segments, true);

      assertThat(inRuns).hasSameSizeAs(oneByOne).hasSizeGreaterThan(3);
      for (int i = 0; i < oneByOne.size(); i++) {
        Page expected = oneByOne.get(i);
        Page actual = inRuns.get(i);
        assertThat(actual.bytes()).as("bytes of page %d", i).isEqualTo(expected.bytes());
        assertThat(List.of(actual.entries(), actual.rows())).as("size of page %d", i)
            .isEqualTo(List.of(expected.entries(), expected.rows()));
        assertThat(actual.statistics().getNumNulls()).as("nulls of page %d", i)
            .isEqualTo(expected.statistics().getNumNulls());
        assertThat(actual.statistics().getMinBytes()).as("min of page %d", i)
            .isEqualTo(expected.statistics().getMinBytes());
        assertThat(actual.statistics().getMaxBytes()).as("max of page %d", i)
            .isEqualTo(expected.statistics().getMaxBytes());
      }
      // And both are right: the entries of every row, with each page's statistics Parquet's own.
      assertThat(readAll(leaf, inRuns)).isEqualTo(readAll(leaf, oneByOne));
      assertThat(readAll(leaf, inRuns)).filteredOn(e -> e.split(" ").length == 3)
          .hasSize(rows * width + (containsNull ? 2 : 4));
    }
  }

  @Test
  void quickStatisticsEqualParquetsOnPagesOfRandomBits() throws IOException {
    SplittableRandom random = new SplittableRandom(16);
    List<Float> values = new ArrayList<>();
    for (int i = 0; i < 8000; i++) {
      int kind = random.nextInt(10);
      values.add(kind == 0 ? -0.0f : kind == 1 ? 0.0f : Float.intBitsToFloat(random.nextInt()));
    }
    ColumnDescriptor leaf = leaf(DataTypes.FloatType, false, true);

    List<Page> pages = write(leaf, DataTypes.FloatType, false, 32, values.stream().map(FloatColumnTest::row)
        .toList());

    // readAll compares each page's statistics with Parquet's; some pages hold a NaN, most do not.
    assertThat(pages).hasSize(1000);
    assertThat(readAll(leaf, pages)).hasSize(values.size());
  }

  @Test
  void orderKeysOrderFloatsAsFloatCompareAndSetNaNsApart() {
    float[] ordered = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1f, -Float.MIN_NORMAL, -Float.MIN_VALUE, -0.0f,
        0.0f, Float.MIN_VALUE, Float.MIN_NORMAL, 1f, Float.MAX_VALUE, Float.POSITIVE_INFINITY};
    for (int i = 0; i + 1 < ordered.length; i++) {
      assertThat(key(ordered[i])).as("%s < %s", ordered[i], ordered[i + 1]).isLessThan(key(ordered[i + 1]));
    }
    for (int nan : new int[] {0x7fc00000, 0x7f800001, 0x7fffffff, Float.floatToRawIntBits(PAYLOAD_NAN)}) {
      assertThat(FloatColumn.orderKey(nan)).isGreaterThan(key(Float.POSITIVE_INFINITY));
      assertThat(FloatColumn.orderKey(nan | 0x80000000)).isLessThan(key(Float.NEGATIVE_INFINITY));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 100_000; i++) {
      int a = random.nextInt();
      int b = random.nextInt();
      assertThat(FloatColumn.orderKey(FloatColumn.orderKey(a))).isEqualTo(a);
      float x = Float.intBitsToFloat(a);
      float y = Float.intBitsToFloat(b);
      if (!Float.isNaN(x) && !Float.isNaN(y)) {
        assertThat(Integer.signum(Integer.compare(key(x), key(y)))).isEqualTo(Integer.signum(Float.compare(x, y)));
      }
    }
  }

  private static int key(float value) {
    return FloatColumn.orderKey(Float.floatToRawIntBits(value));
  }
}
