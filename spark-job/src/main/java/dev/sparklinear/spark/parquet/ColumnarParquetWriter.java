package dev.sparklinear.spark.parquet;

import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.JobID;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.TaskID;
import org.apache.hadoop.mapreduce.TaskType;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.executor.OutputMetrics;
import org.apache.spark.internal.io.FileCommitProtocol;
import org.apache.spark.internal.io.FileCommitProtocol.TaskCommitMessage;
import org.apache.spark.internal.io.FileNameSpec;
import org.apache.spark.internal.io.SparkHadoopWriterUtils;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.SparkToParquetSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;
import org.apache.spark.util.SerializableConfiguration;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

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
 * <p>How it commits: as Spark's own writer does, through the session's commit protocol
 * ({@code spark.sql.sources.commitProtocolClass}, by default Hadoop's {@code FileOutputCommitter} or the committer
 * configured for the path's file system): each task writes one file {@code part-NNNNN-<job>-c000.<codec>.parquet}
 * where the protocol says and commits it, and the job commit publishes the files of the task attempts Spark kept
 * (with {@code _SUCCESS}). Failed and duplicate (speculative) attempts are aborted; a failed write aborts the job and
 * deletes {@code PATH}. Empty partitions write no file; when every partition is empty one file holding only the
 * schema is written, so that the output can be read. {@code PATH} must not exist.
 *
 * <pre>{@code
 * ColumnarParquetWriter.write(transformer.transform(input), "out/", ParquetLists.TWO_LEVEL, Map.of());
 * }</pre>
 */
public final class ColumnarParquetWriter {
  static final String SPARK_VERSION_KEY = "org.apache.spark.version";
  static final String SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata";

  private ColumnarParquetWriter() {
  }

  /** One task's commit, and the rows its file holds. */
  private record CommittedTask(TaskCommitMessage message, long rows) implements Serializable {
  }

  /**
   * Why this writer cannot write {@code schema} (the first column it does not write, and its type), or empty when it
   * can.
   */
  public static Optional<String> unsupported(StructType schema) {
    for (StructField field : schema.fields()) {
      DataType type = field.dataType();
      if (!FloatColumn.writes(type) && !KeptColumn.supports(type)) {
        // A user-defined type (Spark ML's vector) by its own name rather than the struct it is stored as.
        return Optional.of("column " + field.name() + " is "
            + (type instanceof UserDefinedType<?> udt ? udt.simpleString() : type.sql()));
      }
    }
    return Optional.empty();
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
    CompressionCodecName codec = CompressionCodecName.valueOf(new ParquetOptions(
        scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(options)), sqlConf)
        .compressionCodecClassName());

    Path target = new Path(path);
    FileSystem fs;
    Job job;
    try {
      // As Spark's Parquet writer: the session's SQL settings in the Hadoop conf, and its committer setting (for a
      // cloud committer, BindingParquetOutputCommitter) naming the committer.
      job = Job.getInstance(spark.sessionState().newHadoopConf());
      options.forEach(job.getConfiguration()::set);
      Optional.ofNullable(job.getConfiguration().get("spark.sql.parquet.output.committer.class"))
          .ifPresent(committer -> job.getConfiguration().set("spark.sql.sources.outputCommitterClass", committer));
      fs = target.getFileSystem(job.getConfiguration());
      target = fs.makeQualified(target);
      if (fs.exists(target)) {
        throw new IllegalStateException("Output path " + target + " already exists; "
            + ColumnarParquetWriter.class.getSimpleName() + " writes only to a new path");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare output path " + path + ": " + e.getMessage(), e);
    }
    FileOutputFormat.setOutputPath(job, target);
    String jobId = UUID.randomUUID().toString();
    job.getConfiguration().set("spark.sql.sources.writeJobUUID", jobId); // as Spark's writer, for S3A's committers
    FileCommitProtocol protocol = FileCommitProtocol.instantiate(
        spark.sessionState().conf().fileCommitProtocolClass(), jobId, target.toString(), false);
    // Ordered (Map.of's order changes from one JVM to the next, and with it the footer's bytes).
    Map<String, String> footer = new TreeMap<>(
        Map.of(SPARK_VERSION_KEY, spark.version(), SPARK_SCHEMA_KEY, sparkSchema.json()));
    RowSource source = RowSource.of(data);
    try {
      protocol.setupJob(job);
      TaskFiles files = new TaskFiles(protocol, SparkHadoopWriterUtils.createJobTrackerID(new Date()),
          schema.toString(), sparkSchema.json(), source.ordinals(), codec, footer,
          new SerializableConfiguration(job.getConfiguration()), false);
      List<CommittedTask> tasks = new ArrayList<>(source.rows().toJavaRDD().mapPartitions(files).collect());
      long rows = tasks.stream().mapToLong(CommittedTask::rows).sum();
      if (rows == 0) {
        // One more task, through the same protocol, for a file that holds only the schema.
        tasks.addAll(JavaSparkContext.fromSparkContext(spark.sparkContext()).<InternalRow>parallelize(List.of(), 1)
            .mapPartitions(files.evenWhenEmpty()).collect());
      }
      protocol.commitJob(job, CollectionConverters.asScala(tasks.stream().map(CommittedTask::message).toList())
          .toSeq());
      return rows;
    } catch (Throwable e) { // Spark throws SparkException, a checked exception, without declaring it
      try {
        protocol.abortJob(job);
        fs.delete(target, true);
      } catch (IOException | RuntimeException cleanupFailure) {
        e.addSuppressed(cleanupFailure);
      }
      throw e;
    }
  }

  /** What each task needs to write and commit its file; runs on the executors. */
  private record TaskFiles(FileCommitProtocol protocol, String jobTrackerId, String parquetSchema,
      String sparkSchema, int[] ordinals, CompressionCodecName codec, Map<String, String> footer,
      SerializableConfiguration hadoop, boolean evenIfEmpty)
      implements FlatMapFunction<Iterator<InternalRow>, CommittedTask> {

    /** These task files, writing a file also for a partition without rows. */
    TaskFiles evenWhenEmpty() {
      return new TaskFiles(protocol, jobTrackerId, parquetSchema, sparkSchema, ordinals, codec, footer, hadoop, true);
    }

    @Override
    public Iterator<CommittedTask> call(Iterator<InternalRow> rows) throws IOException {
      TaskContext task = TaskContext.get();
      TaskAttemptContext attempt = attemptContext(task);
      protocol.setupTask(attempt);
      try {
        long written = 0;
        if (rows.hasNext() || evenIfEmpty) {
          String file = protocol.newTaskTempFile(attempt, Option.empty(),
              new FileNameSpec("", "-c000" + codec.getExtension() + ".parquet"));
          written = write(new Path(file), rows, attempt.getConfiguration(), task);
        }
        return List.of(new CommittedTask(protocol.commitTask(attempt), written)).iterator();
      } catch (Throwable e) { // the commit may throw Spark's checked exceptions undeclared
        try {
          protocol.abortTask(attempt);
        } catch (RuntimeException abortFailure) {
          e.addSuppressed(abortFailure);
        }
        throw e;
      }
    }

    /** The task attempt as Spark's writer presents it to the committer: a map task of a job named after the stage. */
    private TaskAttemptContext attemptContext(TaskContext task) {
      JobID job = SparkHadoopWriterUtils.createJobID(jobTrackerId, task.stageId());
      TaskAttemptID attempt = new TaskAttemptID(new TaskID(job, TaskType.MAP, task.partitionId()),
          task.attemptNumber());
      Configuration conf = new Configuration(hadoop.value());
      conf.set("mapreduce.job.id", job.toString());
      conf.set("mapreduce.task.id", attempt.getTaskID().toString());
      conf.set("mapreduce.task.attempt.id", attempt.toString());
      conf.setBoolean("mapreduce.task.ismap", true);
      conf.setInt("mapreduce.task.partition", 0);
      return new TaskAttemptContextImpl(conf, attempt);
    }

    private long write(Path file, Iterator<InternalRow> rows, Configuration conf, TaskContext task)
        throws IOException {
      PartWriter writer = new PartWriter(file, conf, (StructType) DataType.fromJson(sparkSchema), ordinals,
          MessageTypeParser.parseMessageType(parquetSchema), codec, footer);
      try {
        writer.writeAll(rows);
        writer.close();
      } catch (IOException | RuntimeException | Error e) {
        writer.abort(); // the task abort deletes the file
        throw e;
      }
      // What Spark's writer reports, so that the Spark UI shows the stage's output size and records.
      OutputMetrics metrics = task.taskMetrics().outputMetrics();
      metrics.setBytesWritten(metrics.bytesWritten() + writer.bytes());
      metrics.setRecordsWritten(metrics.recordsWritten() + writer.rows());
      return writer.rows();
    }
  }
}
