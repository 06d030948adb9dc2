package dev.sparklinear.spark.parquet;

import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.executor.OutputMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.parquet.SparkToParquetSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Writes a DataFrame of flat columns and float vectors as Parquet, writing each float column a page at a time
 * instead of a value at a time: the files Spark's Parquet writer would write (same Parquet schema, same footer
 * metadata, so Spark reads back the same schema and column metadata), in a fraction of the time when most of the
 * values are computed floats.
 *
 * <p>What it writes: columns of type {@code float} and {@code array<float>} (page at a time), and {@code boolean},
 * {@code tinyint}, {@code smallint}, {@code int}, {@code bigint}, {@code double}, {@code string}, {@code binary} and
 * {@code date} (value at a time, through Parquet's column writers, with dictionaries). For anything else
 * ({@link #unsupported} says what), use Spark's writer.
 *
 * <p>How it commits: each task writes one file under {@code PATH/_temporary/}, named after its task attempt; when
 * every task has succeeded the driver moves the files of the attempts Spark kept to
 * {@code PATH/part-NNNNN-<job>-c000.<codec>.parquet}, removes {@code _temporary} and writes {@code _SUCCESS}. Files of
 * failed or duplicate (speculative) attempts are never moved; a failed write deletes {@code PATH}. Empty partitions
 * write no file; when every partition is empty one file holding only the schema is written, so that the output can be
 * read. {@code PATH} must not exist.
 *
 * <pre>{@code
 * ColumnarParquetWriter.write(transformer.transform(input), "out/", ParquetLists.TWO_LEVEL, Map.of());
 * }</pre>
 */
public final class ColumnarParquetWriter {
  static final String SPARK_VERSION_KEY = "org.apache.spark.version";
  static final String SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata";
  private static final String TEMPORARY = "_temporary";

  private ColumnarParquetWriter() {
  }

  /** One task's file, before the commit. */
  private record WrittenPart(int partition, String file, long rows) implements Serializable {
  }

  /**
   * Why this writer cannot write {@code schema} (the first column it does not write, and its type), or empty when it
   * can.
   */
  public static Optional<String> unsupported(StructType schema) {
    for (StructField field : schema.fields()) {
      DataType type = field.dataType();
      if (!supports(type)) {
        // A user-defined type (Spark ML's vector) by its own name rather than the struct it is stored as.
        return Optional.of("column " + field.name() + " is "
            + (type instanceof UserDefinedType<?> udt ? udt.simpleString() : type.sql()));
      }
    }
    return Optional.empty();
  }

  private static boolean supports(DataType type) {
    return FloatColumn.writes(type) || KeptColumn.supports(type);
  }

  /**
   * Writes {@code data} to the new folder {@code path}.
   *
   * @param lists how list columns are laid out (as Spark's {@code spark.sql.parquet.writeLegacyFormat} would)
   * @param options Parquet and Hadoop settings for this write ({@code parquet.block.size}, ...), and
   *     {@code compression} as Spark's Parquet source takes it ({@code snappy}, {@code zstd}, {@code none}, ...;
   *     default: the session's {@code spark.sql.parquet.compression.codec})
   * @return the rows written
   */
  public static long write(Dataset<Row> data, String path, ParquetLists lists, Map<String, String> options) {
    StructType sparkSchema = data.schema();
    unsupported(sparkSchema).ifPresent(reason -> {
      throw new IllegalArgumentException(ColumnarParquetWriter.class.getSimpleName() + " cannot write " + reason
          + "; write this DataFrame with Spark's writer instead");
    });
    SparkSession spark = data.sparkSession();
    SQLConf sqlConf = spark.sessionState().conf().clone();
    sqlConf.setConfString("spark.sql.parquet.writeLegacyFormat", String.valueOf(lists == ParquetLists.TWO_LEVEL));
    MessageType schema = new SparkToParquetSchemaConverter(sqlConf).convert(sparkSchema);
    CompressionCodecName codec = codec(options.getOrDefault("compression",
        spark.conf().get("spark.sql.parquet.compression.codec", "snappy")));
    Configuration hadoop = new Configuration(spark.sparkContext().hadoopConfiguration());
    options.forEach(hadoop::set);

    Path target = new Path(path);
    FileSystem fs;
    try {
      fs = target.getFileSystem(hadoop);
      target = fs.makeQualified(target);
      if (fs.exists(target)) {
        throw new IllegalStateException("Output path " + target + " already exists; "
            + ColumnarParquetWriter.class.getSimpleName() + " writes only to a new path");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare output path " + path + ": " + e.getMessage(), e);
    }
    String job = UUID.randomUUID().toString();
    String extension = codec.getExtension() + ".parquet";
    Map<String, String> footer = Map.of(SPARK_VERSION_KEY, spark.version(), SPARK_SCHEMA_KEY, sparkSchema.json());
    RowSource source = RowSource.of(data);
    TaskFiles files = new TaskFiles(new Path(new Path(target, TEMPORARY), job).toString(), schema.toString(),
        sparkSchema.json(), source.ordinals(), codec, extension, footer, new SerializableConfiguration(hadoop));
    try {
      List<WrittenPart> parts = new ArrayList<>(source.rows().toJavaRDD().mapPartitions(files).collect());
      parts.sort(Comparator.comparingInt(WrittenPart::partition));
      long rows = 0;
      for (WrittenPart part : parts) {
        Path to = new Path(target, String.format(Locale.ROOT, "part-%05d-%s-c000%s", part.partition(), job,
            extension));
        if (!fs.rename(new Path(part.file()), to)) {
          throw new IOException("rename of " + part.file() + " to " + to + " failed");
        }
        rows += part.rows();
      }
      if (parts.isEmpty()) {
        Path only = new Path(target, String.format(Locale.ROOT, "part-00000-%s-c000%s", job, extension));
        PartWriter.open(only, hadoop, sparkSchema, source.ordinals(), schema, codec, footer).close();
      }
      fs.delete(new Path(target, TEMPORARY), true);
      fs.create(new Path(target, "_SUCCESS"), false).close();
      return rows;
    } catch (IOException e) {
      deleteQuietly(fs, target);
      throw new UncheckedIOException("Cannot write " + target + ": " + e.getMessage(), e);
    } catch (Throwable e) { // Spark throws SparkException, a checked exception, without declaring it
      deleteQuietly(fs, target);
      throw e;
    }
  }

  private static CompressionCodecName codec(String name) {
    String upper = name.toUpperCase(Locale.ROOT);
    if (upper.equals("NONE")) {
      return CompressionCodecName.UNCOMPRESSED;
    }
    try {
      return CompressionCodecName.valueOf(upper);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Unknown Parquet compression codec " + name + "; use one of none, "
          + String.join(", ", java.util.Arrays.stream(CompressionCodecName.values())
              .map(c -> c.name().toLowerCase(Locale.ROOT)).toList()), e);
    }
  }

  private static void deleteQuietly(FileSystem fs, Path path) {
    try {
      fs.delete(path, true);
    } catch (IOException | RuntimeException ignored) {
      // The write's own failure is the one to report.
    }
  }

  /** What each task needs to write its file; runs on the executors. */
  private record TaskFiles(String temporary, String parquetSchema, String sparkSchema, int[] ordinals,
      CompressionCodecName codec, String extension, Map<String, String> footer, SerializableConfiguration hadoop)
      implements FlatMapFunction<Iterator<InternalRow>, WrittenPart> {

    @Override
    public Iterator<WrittenPart> call(Iterator<InternalRow> rows) throws IOException {
      if (!rows.hasNext()) {
        return Collections.emptyIterator();
      }
      TaskContext task = TaskContext.get();
      Path file = new Path(temporary, String.format(Locale.ROOT, "part-%05d-attempt-%d%s", task.partitionId(),
          task.taskAttemptId(), extension));
      Configuration conf = hadoop.value();
      PartWriter writer = PartWriter.open(file, conf, (StructType) DataType.fromJson(sparkSchema), ordinals,
          MessageTypeParser.parseMessageType(parquetSchema), codec, footer);
      try {
        while (rows.hasNext()) {
          writer.write(rows.next());
        }
        writer.close();
      } catch (IOException | RuntimeException | Error e) {
        writer.abort();
        try {
          file.getFileSystem(conf).delete(file, false);
        } catch (IOException | RuntimeException ignored) {
          // The task's own failure is the one to report.
        }
        throw e;
      }
      // What Spark's writer reports, so that the Spark UI shows the stage's output size and records.
      OutputMetrics metrics = task.taskMetrics().outputMetrics();
      metrics.setBytesWritten(metrics.bytesWritten() + file.getFileSystem(conf).getFileStatus(file).getLen());
      metrics.setRecordsWritten(metrics.recordsWritten() + writer.rows());
      return List.of(new WrittenPart(task.partitionId(), file.toString(), writer.rows())).iterator();
    }
  }
}
