package dev.sparklinear.spark.parquet;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.spark.UnsafeArrays;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.PageWriter;
import org.apache.parquet.column.statistics.FloatStatistics;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.unsafe.Platform;

/**
 * One {@code float} or {@code array<float>} column, written a page at a time: the values of a page are gathered into
 * a float array (a whole row's array in one memory copy when Spark holds it in its own binary format, a whole run of
 * rows' lists in one copy when they come from a module's output block: {@link #addRun}), then written as one
 * plain-encoded page with its levels as runs and its statistics computed in one pass.
 *
 * <p>This is where the time goes when Spark writes computed vectors (one record-consumer call per value, each
 * updating statistics and levels); written this way a page costs about one copy of its bytes.
 */
final class FloatColumn {
  /** The order keys ({@link #orderKey}) of the infinities: a key outside them is a NaN's. */
  private static final int NEGATIVE_INFINITY_KEY = orderKey(Float.floatToRawIntBits(Float.NEGATIVE_INFINITY));
  private static final int POSITIVE_INFINITY_KEY = orderKey(Float.floatToRawIntBits(Float.POSITIVE_INFINITY));
  private final int ordinal;
  private final boolean list;
  private final boolean elementsNullable;
  private final ColumnDescriptor descriptor;
  private final int maxRepetition;
  private final int maxDefinition;
  /** The definition level of a list that is there but empty. */
  private final int emptyDefinition;
  private final int pageValues;

  private final LevelRuns repetition = new LevelRuns();
  private final LevelRuns definition = new LevelRuns();
  private float[] values;
  private int valueCount;
  private int entries;
  private int rows;
  private long nulls;
  /** Values {@code [0, folded)} of the page are in {@link #minKey} and {@link #maxKey}: see {@link #fold}. */
  private int folded;
  private int minKey = Integer.MAX_VALUE;
  private int maxKey = Integer.MIN_VALUE;
  private final Scratch scratch;
  private PageWriter pages;

  /**
   * The bytes of one page, shared by the float columns of one file: the page writer copies (and compresses) a page
   * before it returns, and a page-sized array per column, or per page, would cost a page-sized allocation each (a
   * humongous object to the G1 collector at the default 1 MiB).
   */
  static final class Scratch {
    private byte[] bytes = new byte[0];

    byte[] atLeast(int length) {
      if (bytes.length < length) {
        bytes = new byte[Math.max(length, bytes.length + bytes.length / 2)];
      }
      return bytes;
    }
  }

  /**
   * @param ordinal the column's position in the rows
   * @param list whether it is {@code array<float>} rather than {@code float}
   * @param elementsNullable whether the list's elements may be null
   * @param descriptor its Parquet leaf
   * @param nullable whether the column itself may be null (its definition levels then start with one for it)
   * @param pageBytes the page size to aim for: a whole page of values is held until it is written
   * @param scratch where pages are encoded, shared by the float columns of a file
   */
  FloatColumn(int ordinal, boolean list, boolean elementsNullable, ColumnDescriptor descriptor, boolean nullable,
      int pageBytes, Scratch scratch) {
    this.ordinal = ordinal;
    this.list = list;
    this.elementsNullable = elementsNullable;
    this.descriptor = descriptor;
    this.maxRepetition = descriptor.getMaxRepetitionLevel();
    this.maxDefinition = descriptor.getMaxDefinitionLevel();
    this.emptyDefinition = nullable ? 1 : 0;
    this.pageValues = Math.max(1, pageBytes / Float.BYTES);
    this.scratch = scratch;
    this.values = new float[Math.min(pageValues, 1 << 16)];
  }

  /** Whether a column of {@code type} is written by a {@code FloatColumn}: {@code float} or {@code array<float>}. */
  static boolean writes(DataType type) {
    return type instanceof FloatType || isFloatList(type);
  }

  /** Whether {@code type} is {@code array<float>}. */
  static boolean isFloatList(DataType type) {
    return type instanceof ArrayType array && array.elementType() instanceof FloatType;
  }

  ColumnDescriptor descriptor() {
    return descriptor;
  }

  /** Whether this column is the {@code array<float>} at {@code ordinal} of the rows, which {@link #addRun} takes. */
  boolean takesRunsOf(int ordinal) {
    return list && this.ordinal == ordinal;
  }

  /** Where the pages of the current row group go. */
  void startRowGroup(PageWriter writer) {
    this.pages = writer;
  }

  void add(InternalRow row) throws IOException {
    if (row.isNullAt(ordinal)) {
      repetition.add(0, 1);
      definition.add(0, 1);
      entries++;
      nulls++;
    } else if (!list) {
      reserve(1);
      values[valueCount++] = row.getFloat(ordinal);
      definition.add(maxDefinition, 1);
      entries++;
    } else {
      addList(row.getArray(ordinal));
    }
    rows++;
    if (entries >= pageValues) {
      flushPage();
    }
  }

  private void addList(ArrayData array) {
    int n = array.numElements();
    if (n == 0) {
      repetition.add(0, 1);
      definition.add(emptyDefinition, 1);
      entries++;
      nulls++;
      return;
    }
    reserve(n);
    entries += n;
    if (!elementsNullable || !hasNull(array, n)) {
      if (array instanceof UnsafeArrayData unsafe) {
        Platform.copyMemory(unsafe.getBaseObject(), UnsafeArrays.dataOffset(unsafe), values,
            Platform.FLOAT_ARRAY_OFFSET + (long) valueCount * Float.BYTES, (long) n * Float.BYTES);
      } else if (array instanceof ColumnarArray columnar) {
        // Column vectors may copy a run of floats in bulk (the transformer's output block does).
        System.arraycopy(columnar.toFloatArray(), 0, values, valueCount, n);
      } else {
        for (int i = 0; i < n; i++) {
          values[valueCount + i] = array.getFloat(i);
        }
      }
      valueCount += n;
      repetition.add(0, 1);
      repetition.add(1, n - 1);
      definition.add(maxDefinition, n);
      return;
    }
    for (int i = 0; i < n; i++) {
      repetition.add(i == 0 ? 0 : 1, 1);
      if (array.isNullAt(i)) {
        definition.add(maxDefinition - 1, 1);
        nulls++;
      } else {
        values[valueCount++] = array.getFloat(i);
        definition.add(maxDefinition, 1);
      }
    }
  }

  /**
   * Adds the lists of {@code count} rows that are rows {@code firstRow ..} of {@code block}, each present and
   * {@code block.cols()} floats long (at least one): what {@link #add} gives for the same rows one by one, page for
   * page, in one bulk copy per page and with their levels appended as runs. Pages end where {@code add} would end them.
   */
  void addRun(FloatBlock block, int firstRow, int count) throws IOException {
    int width = block.cols();
    int done = 0;
    while (done < count) {
      // add() ends a page after the first row that brings it to pageValues entries.
      int rowsToPageEnd = Math.max(1, (pageValues - entries + width - 1) / width);
      int n = Math.min(count - done, rowsToPageEnd);
      int added = n * width;
      reserve(added);
      block.readRows(firstRow + done, n, values, valueCount);
      valueCount += added;
      fold();
      repetition.addLists(n, width);
      definition.add(maxDefinition, added);
      entries += added;
      rows += n;
      done += n;
      if (entries >= pageValues) {
        flushPage();
      }
    }
  }

  private static boolean hasNull(ArrayData array, int n) {
    for (int i = 0; i < n; i++) {
      if (array.isNullAt(i)) {
        return true;
      }
    }
    return false;
  }

  /** Buffered bytes not yet handed to the page writer. */
  long bufferedBytes() {
    return (long) valueCount * Float.BYTES;
  }

  /** Writes what is buffered as one page (pages end on row boundaries, as column indexes require). */
  void flushPage() throws IOException {
    if (rows == 0) {
      return;
    }
    int bytes = valueCount * Float.BYTES;
    byte[] valueBytes = scratch.atLeast(bytes);
    ByteBuffer.wrap(valueBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values, 0, valueCount);
    BytesInput levelsAndValues = BytesInput.concat(
        maxRepetition > 0 ? BytesInput.from(repetition.encode(maxRepetition)) : BytesInput.empty(),
        maxDefinition > 0 ? BytesInput.from(definition.encode(maxDefinition)) : BytesInput.empty(),
        BytesInput.from(valueBytes, 0, bytes));
    // Version 1 pages name the level encoding even without levels; Parquet's own writer says BIT_PACKED then.
    pages.writePage(levelsAndValues, entries, rows, statistics(),
        maxRepetition > 0 ? Encoding.RLE : Encoding.BIT_PACKED,
        maxDefinition > 0 ? Encoding.RLE : Encoding.BIT_PACKED,
        Encoding.PLAIN);
    repetition.clear();
    definition.clear();
    valueCount = 0;
    entries = 0;
    rows = 0;
    nulls = 0;
    folded = 0;
    minKey = Integer.MAX_VALUE;
    maxKey = Integer.MIN_VALUE;
  }

  /**
   * The page's statistics, equal to what Parquet's writer computes value by value. Its comparator is
   * {@code Float.compare}, under which -0.0 is below 0.0: for a page without NaN that order is the order of the values'
   * {@link #orderKey order keys}, whose least and greatest {@link #fold} keeps. Only a page holding NaN (a key beyond
   * those of the infinities) is handed to Parquet value by value, for its NaN rules. (Computed outputs of a layer
   * usually span zero, so the zeros must not send a page down the slow path.)
   */
  private Statistics<?> statistics() {
    FloatStatistics stats = (FloatStatistics) Statistics.createStats(descriptor.getPrimitiveType());
    stats.incrementNumNulls(nulls);
    if (valueCount == 0) {
      return stats;
    }
    fold();
    if (minKey < NEGATIVE_INFINITY_KEY || maxKey > POSITIVE_INFINITY_KEY) {
      for (int i = 0; i < valueCount; i++) {
        stats.updateStats(values[i]);
      }
      return stats;
    }
    stats.updateStats(Float.intBitsToFloat(orderKey(minKey)));
    stats.updateStats(Float.intBitsToFloat(orderKey(maxKey)));
    return stats;
  }

  /**
   * Folds the values added since the last fold into the page's least and greatest order keys: one pass of integer
   * compares, which the branch predictor mostly skips (a new bound is rare), at a third of the time of comparing
   * floats. Called right after a run is copied in, while its values are in cache, and before a page is written.
   */
  private void fold() {
    int min = minKey;
    int max = maxKey;
    for (int i = folded; i < valueCount; i++) {
      int key = orderKey(Float.floatToRawIntBits(values[i]));
      if (key < min) {
        min = key;
      }
      if (key > max) {
        max = key;
      }
    }
    minKey = min;
    maxKey = max;
    folded = valueCount;
  }

  /**
   * A float's bits as an int whose signed order is {@code Float.compare}'s order of the floats that are not NaN:
   * -Infinity lowest, -0.0 just below 0.0, +Infinity highest; NaNs fall outside, a negative-signed NaN below
   * -Infinity and a positive one above +Infinity. The mapping flips the magnitude bits of negative floats, so it is its
   * own inverse: {@code orderKey(orderKey(bits)) == bits}.
   */
  static int orderKey(int bits) {
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  private void reserve(int more) {
    if (valueCount + more > values.length) {
      values = Arrays.copyOf(values, Math.max(valueCount + more, values.length * 2));
    }
  }
}
