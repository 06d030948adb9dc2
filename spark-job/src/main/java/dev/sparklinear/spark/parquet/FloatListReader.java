package dev.sparklinear.spark.parquet;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.bytes.ByteBufferInputStream;
import org.apache.parquet.bytes.BytesUtils;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.ValuesType;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.column.values.ValuesReader;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.spark.unsafe.Platform;

/**
 * Reads one {@code array<float>} column of one Parquet file split, row after row, into float rows of a fixed width,
 * decoding each page in bulk; Spark's vectorized reader appends list levels one value at a time, which dominated our
 * profiles.
 *
 * <p>Row groups are chosen as Spark's reader chooses them (parquet-mr's range filter: a row group belongs to the split
 * holding its midpoint), so that the rows line up with a Spark scan of the other columns of the same split. Takes the
 * standard 3-level {@code LIST}, the legacy 2-level layout and a bare repeated field; values PLAIN, dictionary or
 * BYTE_STREAM_SPLIT are decoded here, any other encoding through parquet-mr's value reader (correct, not fast).
 *
 * <pre>{@code
 * try (FloatListReader reader = FloatListReader.open(conf, path, start, length, "features", 64)) {
 *   boolean clean = reader.readRows(rows, address); // false: see uncleanRows()
 * }
 * }</pre>
 */
public final class FloatListReader implements AutoCloseable {
  private final String file;
  private final String column;
  private final int width;
  private final ParquetFileReader reader;
  /** Null when the file has no such column: Spark reads every row as a null list then. */
  private final ColumnDescriptor descriptor;
  private final int maxDef;
  /** The definition level of an empty list; lower means a null list. */
  private final int emptyDef;
  private final long totalRows;
  private long rowsRead;

  private PageReadStore rowGroup;
  private PageReader pages;
  private float[] dictionary;
  private int[] dictionaryIds = new int[0];
  private int entries;
  private int cursor;
  /** The entries of the page where rows start (repetition level 0), and how many; the next is {@code rowStart[row]}. */
  private int[] rowStart = new int[0];
  private int pageRows;
  private int row;
  /** Definition levels of the page; not filled when {@link #allPresent}. */
  private int[] def = new int[0];
  private float[] values = new float[0];
  private int valueIndex;
  /** Every entry of the page is a non-null element, so entry i holds value i. */
  private boolean allPresent;

  // One row's elements, while a row is read entry by entry.
  private float[] rowValues = new float[64];
  private boolean[] rowNulls = new boolean[64];

  // The rows of the last readRows call that are not clean, with their elements.
  private int unclean;
  private int[] uncleanRow = new int[16];
  private int[] uncleanLength = new int[16];
  private int[] uncleanStart = new int[16];
  private int uncleanElements;
  private float[] uncleanValues = new float[64];
  private boolean[] uncleanNulls = new boolean[64];

  private FloatListReader(String file, String column, int width, ParquetFileReader reader, ColumnDescriptor descriptor,
      int emptyDef) {
    this.file = file;
    this.column = column;
    this.width = width;
    this.reader = reader;
    this.descriptor = descriptor;
    this.maxDef = descriptor == null ? 0 : descriptor.getMaxDefinitionLevel();
    this.emptyDef = emptyDef;
    this.totalRows = reader.getRecordCount();
  }

  /**
   * Opens the split {@code [start, start + length)} of {@code path}, reading column {@code column} (matched as Spark
   * does by default: exactly, else the one field equal ignoring case) as rows of {@code width} floats.
   *
   * @throws UnsupportedOperationException when the file's column is not a list of 32-bit floats
   */
  public static FloatListReader open(Configuration conf, Path path, long start, long length, String column, int width)
      throws IOException {
    ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf),
        HadoopReadOptions.builder(conf, path).withRange(start, start + length).build());
    try {
      MessageType schema = reader.getFooter().getFileMetaData().getSchema();
      Type top = field(schema, column, path);
      if (top == null) {
        reader.setRequestedSchema(new MessageType(schema.getName(), List.of()));
        return new FloatListReader(path.toString(), column, width, reader, null, 0);
      }
      MessageType requested = new MessageType(schema.getName(), top);
      List<ColumnDescriptor> columns = requested.getColumns();
      ColumnDescriptor descriptor = columns.get(0);
      int emptyDef = -1;
      int repeated = 0;
      int level = 0;
      Type type = top;
      for (int i = 0; ; i++) {
        if (type.isRepetition(Type.Repetition.REPEATED)) {
          emptyDef = level;
          repeated++;
        }
        if (!type.isRepetition(Type.Repetition.REQUIRED)) {
          level++;
        }
        if (type.isPrimitive()) {
          break;
        }
        type = type.asGroupType().getType(descriptor.getPath()[i + 1]);
      }
      if (columns.size() != 1 || repeated != 1 || descriptor.getPrimitiveType().getPrimitiveTypeName()
          != PrimitiveTypeName.FLOAT) {
        throw new UnsupportedOperationException("Cannot read column '" + column + "' of " + path + " as a list of"
            + " floats: its Parquet type is " + top.toString().replace('\n', ' ').trim()
            + "; set input.parquet-reader: spark to read it with Spark's reader");
      }
      reader.setRequestedSchema(requested);
      return new FloatListReader(path.toString(), column, width, reader, descriptor, emptyDef);
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  private static Type field(MessageType schema, String column, Path path) {
    if (schema.containsField(column)) {
      return schema.getType(column);
    }
    List<Type> matches = new ArrayList<>();
    for (Type field : schema.getFields()) {
      if (field.getName().equalsIgnoreCase(column)) {
        matches.add(field);
      }
    }
    if (matches.size() > 1) {
      throw new UnsupportedOperationException("Column '" + column + "' of " + path + " matches several fields"
          + " ignoring case: " + matches.stream().map(Type::getName).toList());
    }
    return matches.isEmpty() ? null : matches.get(0);
  }

  /** Rows of the split, by the footer. */
  public long totalRows() {
    return totalRows;
  }

  public long rowsRead() {
    return rowsRead;
  }

  /**
   * Reads the next {@code rows} rows; a clean row (a non-null list of exactly {@code width} non-null floats) is
   * written to {@code address + row * width * 4}. Returns true when every row was clean; otherwise the others are
   * described by {@link #uncleanRows()} and their slots are left as they were.
   *
   * @throws IllegalStateException when the split has fewer rows left
   */
  public boolean readRows(int rows, long address) throws IOException {
    unclean = 0;
    uncleanElements = 0;
    long rowBytes = 4L * width;
    int r = 0;
    while (r < rows) {
      if (cursor >= entries && !nextPage()) {
        throw new IllegalStateException("Column '" + column + "' of " + file + " has " + rowsRead + " rows in this"
            + " split, fewer than the other columns; the file may be corrupt");
      }
      if (descriptor == null) {
        cursor++;
        recordUnclean(r++, -1, 0);
        rowsRead++;
        continue;
      }
      // Whole clean rows in a row: one copy. A row's end is seen at the next row's start, hence the - 1.
      int fit = allPresent ? Math.min(rows - r, pageRows - row - 1) : 0;
      int run = fit > 0 ? cleanRun(fit) : 0;
      if (run > 0) {
        int n = run * width;
        Platform.copyMemory(values, Platform.FLOAT_ARRAY_OFFSET + 4L * valueIndex, null, address + r * rowBytes,
            4L * n);
        cursor += n;
        valueIndex += n;
        row += run;
        r += run;
        rowsRead += run;
      } else {
        readRow(address + r * rowBytes, r++);
        rowsRead++;
      }
    }
    return unclean == 0;
  }

  /** How many of the next {@code rows} rows of the page are, from the first, exactly {@code width} long. */
  private int cleanRun(int rows) {
    for (int k = 0; k < rows; k++) {
      if (rowStart[row + k + 1] - rowStart[row + k] != width) {
        return k;
      }
    }
    return rows;
  }

  /** Reads one row entry by entry, across pages if it must (a writer may end a v1 page inside a row). */
  private void readRow(long address, int r) throws IOException {
    if (row >= pageRows || rowStart[row] != cursor) {
      throw new IllegalStateException("Column '" + column + "' of " + file + ": a row starts inside a list at row "
          + rowsRead + "; the file may be corrupt");
    }
    row++;
    int d = allPresent ? maxDef : def[cursor];
    if (d <= emptyDef) {
      cursor++;
      recordUnclean(r, d < emptyDef ? -1 : 0, 0);
      return;
    }
    int length = 0;
    boolean nulls = false;
    do {
      if (length == rowValues.length) {
        rowValues = Arrays.copyOf(rowValues, 2 * length);
        rowNulls = Arrays.copyOf(rowNulls, 2 * length);
      }
      boolean isNull = !allPresent && def[cursor] < maxDef;
      rowNulls[length] = isNull;
      rowValues[length] = isNull ? 0f : values[valueIndex++];
      nulls |= isNull;
      length++;
      cursor++;
    } while (rowContinues());
    if (length == width && !nulls) {
      Platform.copyMemory(rowValues, Platform.FLOAT_ARRAY_OFFSET, null, address, 4L * width);
    } else {
      recordUnclean(r, length, length);
    }
  }

  /** Whether the entry at the cursor, on this page or the next, belongs to the row being read. */
  private boolean rowContinues() throws IOException {
    if (cursor == entries && !nextPage()) {
      return false;
    }
    return cursor < (row < pageRows ? rowStart[row] : entries);
  }

  /** Notes row {@code r} as not clean: {@code length} -1 for a null list; its elements are in {@code rowValues}. */
  private void recordUnclean(int r, int length, int elements) {
    if (unclean == uncleanRow.length) {
      uncleanRow = Arrays.copyOf(uncleanRow, 2 * unclean);
      uncleanLength = Arrays.copyOf(uncleanLength, 2 * unclean);
      uncleanStart = Arrays.copyOf(uncleanStart, 2 * unclean);
    }
    if (uncleanElements + elements > uncleanValues.length) {
      int size = Math.max(2 * uncleanValues.length, uncleanElements + elements);
      uncleanValues = Arrays.copyOf(uncleanValues, size);
      uncleanNulls = Arrays.copyOf(uncleanNulls, size);
    }
    System.arraycopy(rowValues, 0, uncleanValues, uncleanElements, elements);
    System.arraycopy(rowNulls, 0, uncleanNulls, uncleanElements, elements);
    uncleanRow[unclean] = r;
    uncleanLength[unclean] = length;
    uncleanStart[unclean] = uncleanElements;
    uncleanElements += elements;
    unclean++;
  }

  /** Rows of the last {@link #readRows} that are not clean, in order. */
  public int uncleanRows() {
    return unclean;
  }

  /** The row (of the last {@link #readRows}) of unclean row {@code i}. */
  public int uncleanRow(int i) {
    return uncleanRow[i];
  }

  /** The list length of unclean row {@code i}, -1 for a null list. */
  public int uncleanLength(int i) {
    return uncleanLength[i];
  }

  public boolean uncleanIsNull(int i, int element) {
    return uncleanNulls[uncleanStart[i] + element];
  }

  public float uncleanValue(int i, int element) {
    return uncleanValues[uncleanStart[i] + element];
  }

  /** Loads the next non-empty data page, of this row group or the next; false at the end of the split. */
  private boolean nextPage() throws IOException {
    while (true) {
      if (pages != null) {
        DataPage page = pages.readPage();
        if (page != null) {
          decode(page);
          if (entries > 0) {
            return true;
          }
          continue;
        }
      }
      closeRowGroup();
      rowGroup = reader.readNextRowGroup();
      if (rowGroup == null) {
        return false;
      }
      if (descriptor == null) {
        // Spark's reader gives the rows of a file without the column as null lists.
        entries = Math.toIntExact(rowGroup.getRowCount());
        cursor = 0;
        return true;
      }
      pages = rowGroup.getPageReader(descriptor);
      dictionary = readDictionary(pages.readDictionaryPage());
    }
  }

  private float[] readDictionary(DictionaryPage page) throws IOException {
    if (page == null) {
      return null;
    }
    if (page.getEncoding() != Encoding.PLAIN && page.getEncoding() != Encoding.PLAIN_DICTIONARY) {
      throw new UnsupportedOperationException("Column '" + column + "' of " + file + " has a dictionary in encoding "
          + page.getEncoding() + "; set input.parquet-reader: spark to read it with Spark's reader");
    }
    float[] dict = new float[page.getDictionarySize()];
    ByteBuffer.wrap(page.getBytes().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dict);
    return dict;
  }

  private void decode(DataPage page) throws IOException {
    int n = page.getValueCount();
    if (rowStart.length < n) {
      rowStart = new int[n];
      def = new int[n];
      values = new float[n];
    }
    entries = n;
    cursor = 0;
    row = 0;
    valueIndex = 0;
    byte[] repLevels;
    int repFrom;
    int repTo;
    byte[] defLevels;
    int defFrom;
    int defTo;
    byte[] data;
    int dataFrom;
    Encoding encoding;
    if (page instanceof DataPageV1 v1) {
      // Levels come first, each with a 4-byte length, then the values.
      requireRle(v1.getRlEncoding(), "repetition");
      requireRle(v1.getDlEncoding(), "definition");
      data = v1.getBytes().toByteArray();
      repLevels = data;
      repFrom = 4;
      repTo = repFrom + littleEndianInt(data, 0);
      defLevels = data;
      defFrom = repTo + 4;
      defTo = defFrom + littleEndianInt(data, repTo);
      dataFrom = defTo;
      encoding = v1.getValueEncoding();
    } else {
      DataPageV2 v2 = (DataPageV2) page;
      repLevels = v2.getRepetitionLevels().toByteArray();
      repFrom = 0;
      repTo = repLevels.length;
      defLevels = v2.getDefinitionLevels().toByteArray();
      defFrom = 0;
      defTo = defLevels.length;
      data = v2.getData().toByteArray();
      dataFrom = 0;
      encoding = v2.getDataEncoding();
    }
    pageRows = new HybridIntDecoder(repLevels, repFrom, repTo, 1).zeroPositions(n, rowStart);
    int defBits = BytesUtils.getWidthFromMaxInt(maxDef);
    // A page without nulls is, in practice, one run of the top level: checked run by run, no level array filled.
    allPresent = new HybridIntDecoder(defLevels, defFrom, defTo, defBits).allEqual(n, maxDef);
    int present = n;
    if (!allPresent) {
      new HybridIntDecoder(defLevels, defFrom, defTo, defBits).decode(def, n);
      present = 0;
      for (int i = 0; i < n; i++) {
        present += def[i] == maxDef ? 1 : 0;
      }
    }
    decodeValues(encoding, data, dataFrom, data.length, present);
  }

  private static int littleEndianInt(byte[] bytes, int offset) {
    return (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8 | (bytes[offset + 2] & 0xFF) << 16
        | (bytes[offset + 3] & 0xFF) << 24;
  }

  private void requireRle(Encoding encoding, String what) {
    if (encoding != Encoding.RLE) {
      throw new UnsupportedOperationException("Column '" + column + "' of " + file + " has " + what + " levels in"
          + " encoding " + encoding + "; set input.parquet-reader: spark to read it with Spark's reader");
    }
  }

  private void decodeValues(Encoding encoding, byte[] bytes, int offset, int end, int count) throws IOException {
    switch (encoding) {
      case PLAIN -> {
        if (end - offset < 4L * count) {
          throw new IllegalStateException("Column '" + column + "' of " + file + ": a page holds " + (end - offset)
              + " bytes for " + count + " floats; the file may be corrupt");
        }
        ByteBuffer.wrap(bytes, offset, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values, 0, count);
      }
      case PLAIN_DICTIONARY, RLE_DICTIONARY -> {
        if (dictionary == null) {
          throw new IllegalStateException("Column '" + column + "' of " + file + ": a dictionary-encoded page without"
              + " a dictionary; the file may be corrupt");
        }
        if (dictionaryIds.length < count) {
          dictionaryIds = new int[values.length];
        }
        if (count > 0) {
          new HybridIntDecoder(bytes, offset + 1, end, bytes[offset]).decode(dictionaryIds, count);
        }
        for (int i = 0; i < count; i++) {
          values[i] = dictionary[dictionaryIds[i]];
        }
      }
      case BYTE_STREAM_SPLIT -> {
        // Byte j of value i is at stream j, position i.
        for (int i = 0; i < count; i++) {
          int bits = (bytes[offset + i] & 0xFF) | (bytes[offset + count + i] & 0xFF) << 8
              | (bytes[offset + 2 * count + i] & 0xFF) << 16 | (bytes[offset + 3 * count + i] & 0xFF) << 24;
          values[i] = Float.intBitsToFloat(bits);
        }
      }
      default -> {
        ValuesReader generic = encoding.getValuesReader(descriptor, ValuesType.VALUES);
        generic.initFromPage(count, ByteBufferInputStream.wrap(ByteBuffer.wrap(bytes, offset, end - offset)));
        for (int i = 0; i < count; i++) {
          values[i] = generic.readFloat();
        }
      }
    }
  }

  private void closeRowGroup() {
    pages = null;
    dictionary = null;
    if (rowGroup != null) {
      try {
        rowGroup.close();
      } catch (Exception e) {
        throw new IllegalStateException("Cannot release a row group of " + file, e);
      }
    }
    rowGroup = null;
  }

  @Override
  public void close() throws IOException {
    try {
      closeRowGroup();
    } finally {
      reader.close();
    }
  }
}
