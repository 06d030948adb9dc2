package dev.sparklinear.spark.parquet;

import dev.sparklinear.core.block.FloatBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.ColumnChunkPageWriteStore;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Writes rows into one Parquet file, row group by row group: float and float-array columns through
 * {@link FloatColumn}, the other columns through Parquet's column writers ({@link KeptColumn}); both hand their pages
 * to Parquet's page store, which compresses them and writes the column chunks, offset and column indexes.
 *
 * <p>Parquet settings come from the Hadoop configuration under Parquet's own keys ({@code parquet.block.size},
 * {@code parquet.page.size}, {@code parquet.enable.dictionary}, ...), as with Spark's writer.
 */
final class PartWriter implements AutoCloseable {
  /**
   * Most bytes all float columns together hold in pages not yet written: each holds a page of values, so a wide
   * {@code columns} layout (1024 float columns) gets smaller pages instead of a page size each.
   */
  static final long FLOAT_PAGE_BUDGET = 32L << 20;
  /** The smallest page a float column is given, whatever the budget. */
  static final int MIN_FLOAT_PAGE = 16 << 10;
  /** Rows between two looks at the row group's size. */
  private static final int ROW_GROUP_CHECK = 1024;

  private final ParquetFileWriter file;
  private final MessageType schema;
  private final MessageType keptSchema;
  private final ParquetProperties properties;
  private final CodecFactory codecs;
  private final CodecFactory.BytesCompressor compressor;
  private final Map<String, String> footer;
  private final long rowGroupBytes;
  private final FloatColumn[] floats;
  private final KeptColumn[] kept;

  private ColumnChunkPageWriteStore pageStore;
  private ColumnWriteStore keptStore;
  private long groupRows;
  private long rows;

  /**
   * Opens {@code path} (which must not exist) for columns of {@code sparkSchema}, column {@code i} at
   * {@code ordinals[i]} in the rows, written as {@code schema} (one leaf per column, in order), with {@code footer} as
   * the file's key-value metadata.
   */
  PartWriter(Path path, Configuration conf, StructType sparkSchema, int[] ordinals, MessageType schema,
      CompressionCodecName codec, Map<String, String> footer) throws IOException {
    this.schema = schema;
    this.footer = footer;
    int pageBytes = ParquetOutputFormat.getPageSize(conf);
    this.rowGroupBytes = ParquetOutputFormat.getLongBlockSize(conf);
    this.properties = ParquetProperties.builder()
        .withPageSize(pageBytes)
        .withDictionaryPageSize(ParquetOutputFormat.getDictionaryPageSize(conf))
        .withDictionaryEncoding(ParquetOutputFormat.getEnableDictionary(conf))
        .withWriterVersion(ParquetOutputFormat.getWriterVersion(conf))
        .withPageWriteChecksumEnabled(ParquetOutputFormat.getPageWriteChecksumEnabled(conf))
        .build();
    List<Type> keptFields = new ArrayList<>();
    List<FloatColumn> floatColumns = new ArrayList<>();
    List<KeptColumn> keptColumns = new ArrayList<>();
    List<ColumnDescriptor> leaves = schema.getColumns();
    StructField[] fields = sparkSchema.fields();
    long floatCount = Arrays.stream(fields).filter(f -> FloatColumn.writes(f.dataType())).count();
    int floatPageBytes = (int) Math.min(pageBytes,
        Math.max(MIN_FLOAT_PAGE, FLOAT_PAGE_BUDGET / Math.max(1, floatCount)));
    FloatColumn.Scratch scratch = new FloatColumn.Scratch();
    for (int i = 0; i < fields.length; i++) {
      ColumnDescriptor leaf = leaves.get(i);
      StructField field = fields[i];
      DataType type = field.dataType();
      if (FloatColumn.writes(type)) {
        boolean list = FloatColumn.isFloatList(type);
        boolean elementsNullable = list && ((ArrayType) type).containsNull();
        floatColumns.add(new FloatColumn(ordinals[i], list, elementsNullable, leaf, field.nullable(), floatPageBytes,
            scratch));
        continue;
      }
      // ColumnarParquetWriter.write has refused a schema with a column neither kind writes.
      keptColumns.add(KeptColumn.of(ordinals[i], type, leaf));
      keptFields.add(schema.getType(i));
    }
    this.floats = floatColumns.toArray(new FloatColumn[0]);
    this.kept = keptColumns.toArray(new KeptColumn[0]);
    this.keptSchema = keptFields.isEmpty() ? null : new MessageType(schema.getName(), keptFields);
    this.codecs = new CodecFactory(conf, pageBytes);
    this.compressor = codecs.getCompressor(codec);
    ParquetFileWriter opened = null;
    try {
      opened = new ParquetFileWriter(HadoopOutputFile.fromPath(path, conf), schema, ParquetFileWriter.Mode.CREATE,
          rowGroupBytes, conf.getInt(ParquetOutputFormat.MAX_PADDING_BYTES, ParquetWriter.MAX_PADDING_SIZE_DEFAULT),
          null, properties);
      opened.start();
    } catch (IOException | RuntimeException e) {
      giveUp(opened);
      throw e;
    }
    this.file = opened;
    startRowGroup();
  }

  /**
   * Writes every row of {@code rows}. When they come in runs ({@link FloatListRuns}) and a float-list column here is
   * their list column, a run's lists go into that column in bulk and only its other columns are taken row by row;
   * the file is byte for byte the one {@link #write} would write row by row.
   */
  void writeAll(Iterator<InternalRow> rows) throws IOException {
    FloatListRuns runs = rows instanceof FloatListRuns r && takesRuns(r.listOrdinal()) ? r : null;
    while (rows.hasNext()) {
      int run = runs == null ? 0 : runs.runLength();
      // Lists of no values have other levels (an empty list's) than addRun writes.
      if (run > 0 && runs.runBlock().cols() > 0) {
        writeRun(runs, run);
      } else {
        write(rows.next());
      }
    }
  }

  private boolean takesRuns(int ordinal) {
    return ordinal >= 0 && Arrays.stream(floats).anyMatch(column -> column.takesRunsOf(ordinal));
  }

  /**
   * Writes the {@code count} rows of the current run of {@code rows}: the list column from the run's block, a chunk
   * at a time, and the other columns of each row as {@link #write} does. Chunks end where {@code write} looks at the
   * row group's size (every 1024 rows), so that row groups end where they would.
   */
  private void writeRun(FloatListRuns rows, int count) throws IOException {
    FloatBlock block = rows.runBlock();
    int firstRow = rows.runFirstRow();
    int ordinal = rows.listOrdinal();
    int done = 0;
    while (done < count) {
      int chunk = (int) Math.min(count - done, ROW_GROUP_CHECK - (groupRows % ROW_GROUP_CHECK));
      // Copied before the rows are taken: the block stays only until the run's last row has been.
      for (FloatColumn column : floats) {
        if (column.takesRunsOf(ordinal)) {
          column.addRun(block, firstRow + done, chunk);
        }
      }
      for (int i = 0; i < chunk; i++) {
        InternalRow row = rows.next();
        for (FloatColumn column : floats) {
          if (!column.takesRunsOf(ordinal)) {
            column.add(row);
          }
        }
        for (KeptColumn column : kept) {
          column.add(row);
        }
        if (keptStore != null) {
          keptStore.endRecord();
        }
      }
      groupRows += chunk;
      this.rows += chunk;
      done += chunk;
      checkRowGroup();
    }
  }

  void write(InternalRow row) throws IOException {
    for (FloatColumn column : floats) {
      column.add(row);
    }
    for (KeptColumn column : kept) {
      column.add(row);
    }
    if (keptStore != null) {
      keptStore.endRecord();
    }
    groupRows++;
    rows++;
    checkRowGroup();
  }

  /**
   * Ends the row group when it holds enough. The buffered size is a sum over the columns: looked at every
   * {@value #ROW_GROUP_CHECK} rows, as Parquet's writer does at most.
   */
  private void checkRowGroup() throws IOException {
    if (groupRows % ROW_GROUP_CHECK == 0 && bufferedBytes() >= rowGroupBytes) {
      flushRowGroup();
      startRowGroup();
    }
  }

  /** Rows written so far. */
  long rows() {
    return rows;
  }

  /** Bytes written to the file so far: once closed, its length. */
  long bytes() throws IOException {
    return file.getPos();
  }

  private long bufferedBytes() {
    long bytes = keptStore == null ? 0 : keptStore.getBufferedSize();
    for (FloatColumn column : floats) {
      bytes += column.bufferedBytes() + pageStore.getPageWriter(column.descriptor()).getMemSize();
    }
    return bytes;
  }

  private void startRowGroup() {
    pageStore = new ColumnChunkPageWriteStore(compressor, schema, properties.getAllocator(),
        properties.getColumnIndexTruncateLength(), properties.getPageWriteChecksumEnabled());
    for (FloatColumn column : floats) {
      column.startRowGroup(pageStore.getPageWriter(column.descriptor()));
    }
    if (keptSchema != null) {
      keptStore = properties.newColumnWriteStore(keptSchema, pageStore);
      for (KeptColumn column : kept) {
        column.startRowGroup(keptStore);
      }
    }
    groupRows = 0;
  }

  private void flushRowGroup() throws IOException {
    if (groupRows > 0) {
      if (keptStore != null) {
        keptStore.flush();
      }
      for (FloatColumn column : floats) {
        column.flushPage();
      }
      file.startBlock(groupRows);
      pageStore.flushToFileWriter(file);
      file.endBlock();
    }
    if (keptStore != null) {
      keptStore.close();
    }
    pageStore.close();
  }

  /** Writes the last row group and the footer, and closes the file; gives the file up when that fails. */
  @Override
  public void close() throws IOException {
    try {
      flushRowGroup();
      file.end(footer);
    } catch (IOException | RuntimeException e) {
      abort();
      throw e;
    }
    codecs.release();
  }

  /**
   * Gives up on the file, which the task's abort deletes. Never throws: it runs while another failure is reported.
   * Safe to call more than once.
   */
  void abort() {
    giveUp(file);
  }

  private void giveUp(ParquetFileWriter writer) {
    try {
      if (writer != null) {
        // Not Parquet's abort(), after which close() leaves the stream (and on HDFS its lease) open: the partial
        // file is closed as it is, where only the task attempt sees it.
        writer.close();
      }
    } catch (IOException | RuntimeException ignored) {
      // The original failure matters more.
    }
    codecs.release();
  }
}
