package dev.sparklinear.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.Footer;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat$;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * What the driver learns about a Parquet input from its files alone, with no Spark job: the schema Spark would infer
 * (Spark's own footer conversion, applied to the file Spark would take it from), and the width of the first non-null
 * feature vector (from the first page of the feature column). Each saves a Spark job of a cold run: Spark infers a
 * Parquet schema with a job even for one file, and the width check was a one-row job.
 *
 * <p>Only plain inputs are previewed: files, or folders of files, without partition folders or schema merging. For
 * anything else {@link #of} is empty and the job lets Spark infer the schema as before.
 */
final class ParquetPreview {
  /** Rows looked through for a non-null feature vector before the width is left unknown. */
  static final int MAX_ROWS_SCANNED = 10_000;

  private final Configuration hadoop;
  private final FileStatus firstFile;
  private final ParquetMetadata footer;
  private final StructType schema;

  private ParquetPreview(Configuration hadoop, FileStatus firstFile, ParquetMetadata footer, StructType schema) {
    this.hadoop = hadoop;
    this.firstFile = firstFile;
    this.footer = footer;
    this.schema = schema;
  }

  /**
   * The preview of the Parquet input that {@code matches} (the input path's glob matches) hold, or empty when Spark
   * would read it in a way this class does not follow (partition folders, {@code mergeSchema}), or when the first file's
   * footer cannot be read (Spark's read then reports the damage in its words).
   */
  static Optional<ParquetPreview> of(FileSystem fs, FileStatus[] matches, Map<String, String> options,
      Configuration hadoop) throws IOException {
    if (options.keySet().stream().anyMatch(option -> option.equalsIgnoreCase("mergeSchema"))
        || SQLConf.get().isParquetSchemaMergingEnabled()) {
      return Optional.empty();
    }
    List<FileStatus> files = new ArrayList<>();
    for (FileStatus match : matches) {
      if (!match.isDirectory()) {
        files.add(match);
        continue;
      }
      for (FileStatus child : fs.listStatus(match.getPath())) {
        if (hidden(child)) {
          continue;
        }
        if (child.isDirectory()) {
          return Optional.empty(); // partition folders: Spark adds partition columns
        }
        files.add(child);
      }
    }
    // Spark infers the schema from the first data file in path order.
    Optional<FileStatus> first = files.stream().filter(file -> !hidden(file))
        .min(Comparator.comparing(file -> file.getPath().toString()));
    if (first.isEmpty()) {
      return Optional.empty();
    }
    ParquetMetadata footer;
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(first.get(), hadoop))) {
      footer = reader.getFooter();
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // a damaged file: Spark's own read reports it, naming the file
    }
    StructType schema = ParquetFileFormat$.MODULE$.readSchemaFromFooter(
        new Footer(first.get().getPath(), footer), new ParquetToSparkSchemaConverter(SQLConf.get()));
    // As Spark's file sources do with every schema, inferred or given: all fields nullable.
    return Optional.of(new ParquetPreview(hadoop, first.get(), footer, schema.asNullable()));
  }

  private static boolean hidden(FileStatus file) {
    String name = file.getPath().getName();
    return name.startsWith("_") || name.startsWith(".");
  }

  /** The schema Spark infers for this input, to give to its reader so that it infers nothing. */
  StructType schema() {
    return schema;
  }

  /**
   * The number of values of the first non-null vector in {@code column} of the first file (an array, or a Spark ML
   * vector's size); empty when the column is of another type or no such vector is among its first
   * {@value #MAX_ROWS_SCANNED} rows.
   */
  OptionalInt firstWidth(String column) {
    MessageType fileSchema = footer.getFileMetaData().getSchema();
    if (!schema.getFieldIndex(column).isDefined() || !fileSchema.containsField(column)
        || fileSchema.getType(column).isPrimitive()) { // a bare repeated field: not a layout Spark writes
      return OptionalInt.empty();
    }
    DataType type = schema.apply(column).dataType();
    boolean vector = type.equals(SQLDataTypes.VectorType());
    if (!(type instanceof ArrayType) && !vector) {
      return OptionalInt.empty();
    }
    Configuration conf = new Configuration(hadoop);
    conf.set(ReadSupport.PARQUET_READ_SCHEMA,
        new MessageType(fileSchema.getName(), fileSchema.getType(column)).toString());
    try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), firstFile.getPath())
        .withConf(conf).build()) {
      for (int row = 0; row < MAX_ROWS_SCANNED; row++) {
        Group record = reader.read();
        if (record == null) {
          break;
        }
        if (record.getFieldRepetitionCount(0) > 0) {
          Group value = record.getGroup(0, 0);
          return OptionalInt.of(vector ? vectorSize(value) : value.getFieldRepetitionCount(0));
        }
      }
      return OptionalInt.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the first rows of " + firstFile.getPath(), e);
    }
  }

  /**
   * A Spark ML vector's size: stored as a struct of {@code type} (0 sparse, 1 dense), {@code size} (sparse only),
   * {@code indices} and {@code values}, whose list holds one repeated child in either list layout.
   */
  private static int vectorSize(Group vector) {
    boolean dense = vector.getInteger("type", 0) == 1;
    if (!dense) {
      return vector.getInteger("size", 0);
    }
    return vector.getFieldRepetitionCount("values") == 0 ? 0
        : vector.getGroup("values", 0).getFieldRepetitionCount(0);
  }
}
