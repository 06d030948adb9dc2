package dev.sparklinear.spark;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.SparkToParquetSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Writer settings that make Spark's Parquet writer fast on computed float vectors, for whoever writes the output of
 * {@link ModuleTransformer} (the job does, through these).
 *
 * <p>Two costs dominate writing {@code array<float>} with Spark's defaults (measured with JFR at 64 → 16, where they
 * were three quarters of the job): dictionary encoding, which Parquet tries on every column chunk and abandons for
 * computed floats (almost no value repeats), and the standard three-level list layout, in which every element is a
 * group of its own. {@link #dictionaryOff} turns the first off for the computed columns only (kept columns such as
 * strings still get dictionaries); {@link #withLists} chooses the second for one write.
 *
 * <pre>{@code
 * Dataset<Row> out = transformer.transform(input);
 * Map<String, String> options = ParquetOutput.dictionaryOff(out.schema(), List.of("output"), ParquetLists.TWO_LEVEL);
 * ParquetOutput.withLists(spark, ParquetLists.TWO_LEVEL, () -> {
 *   out.write().options(options).parquet(path);
 *   return null;
 * });
 * }</pre>
 */
public final class ParquetOutput {
  /** Spark's switch between the two list layouts (and the legacy decimal encoding): a session setting only. */
  static final String LEGACY_FORMAT_KEY = "spark.sql.parquet.writeLegacyFormat";
  private static final String DICTIONARY_KEY = "parquet.enable.dictionary";

  private ParquetOutput() {
  }

  /** How Parquet stores a list column. */
  public enum ParquetLists implements ConfigEnum {
    /**
     * A repeated field of the element type, no group per element (Spark with {@code writeLegacyFormat}, and what Hive
     * and Impala write); for lists whose elements are never null. Readers follow the Parquet format's
     * backward-compatibility rules for lists to read it as the same {@code array<float>}.
     */
    TWO_LEVEL,
    /** The Parquet format's standard LIST: a repeated group {@code list} holding one {@code element} field. */
    THREE_LEVEL;
  }

  /**
   * Writer options (for {@code DataFrameWriter.options}) turning Parquet dictionary encoding off for every leaf of
   * the named columns, keyed by Parquet column path ({@code parquet.enable.dictionary#output.array}).
   *
   * @param schema the schema written
   * @param columns the top-level columns whose leaves should be written without a dictionary
   * @param lists the list layout the write uses, which decides the leaf paths of array columns
   */
  public static Map<String, String> dictionaryOff(StructType schema, Collection<String> columns, ParquetLists lists) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String column : columns) {
      StructField field = schema.apply(column);
      for (String leaf : leafPaths(field.name(), field.dataType(), lists)) {
        options.put(DICTIONARY_KEY + "#" + leaf, "false");
      }
    }
    return options;
  }

  /**
   * Runs one write with the session's Parquet list layout set to {@code lists}, then puts the session's setting
   * back. Spark reads this setting from the session when the write is planned, not from the writer's options. Other
   * writes running at the same time in the same session see it too. {@link ParquetLists#TWO_LEVEL} also makes Spark
   * write decimal columns as fixed-length byte arrays, as Hive does.
   */
  public static <T> T withLists(SparkSession spark, ParquetLists lists, Supplier<T> write) {
    String before = spark.conf().contains(LEGACY_FORMAT_KEY) ? spark.conf().get(LEGACY_FORMAT_KEY) : null;
    spark.conf().set(LEGACY_FORMAT_KEY, String.valueOf(lists == ParquetLists.TWO_LEVEL));
    try {
      return write.get();
    } finally {
      if (before == null) {
        spark.conf().unset(LEGACY_FORMAT_KEY);
      } else {
        spark.conf().set(LEGACY_FORMAT_KEY, before);
      }
    }
  }

  /**
   * The Parquet column paths of a field's leaves, as Spark's writer lays them out: through its own
   * {@code SparkToParquetSchemaConverter}, so structs by field name and arrays as {@code list.element} (standard),
   * {@code array} (two-level, non-null elements) or {@code bag.array} (two-level, nullable elements).
   */
  static List<String> leafPaths(String path, DataType type, ParquetLists lists) {
    SQLConf conf = new SQLConf();
    conf.setConfString(LEGACY_FORMAT_KEY, String.valueOf(lists == ParquetLists.TWO_LEVEL));
    MessageType schema = new SparkToParquetSchemaConverter(conf).convert(new StructType().add(path, type));
    return schema.getPaths().stream().map(leaf -> String.join(".", leaf)).toList();
  }
}
