package dev.sparklinear.job;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.Hook;
import dev.sparklinear.job.config.OutputFormat;
import dev.sparklinear.job.config.OutputMode;
import dev.sparklinear.job.config.ParquetWriterKind;
import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.job.report.ReportPage;
import dev.sparklinear.spark.BlockCounters;
import dev.sparklinear.spark.ModuleTransformer;
import dev.sparklinear.spark.ParquetOutput;
import dev.sparklinear.spark.parquet.ColumnarParquetWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;

/**
 * One run of the job: load the module and build its hooks, check everything that can be checked on the driver,
 * transform the input with {@link ModuleTransformer}, write the output, and write the run summary beside it.
 *
 * <pre>{@code
 * JobConfig config = JobConfig.load(Path.of("conf/seed-example.yaml"), List.of());
 * RunSummary summary = new LinearJob(config, spark).run();
 * }</pre>
 */
public final class LinearJob {
  /** The key, in the output columns' metadata, of the module and weights that made them. */
  public static final String LINEAGE_KEY = "spark_linear";

  private final JobConfig config;
  private final SparkSession spark;
  private final boolean report;
  /** The input's schema and first vector width read on the driver, when it is plain Parquet; else null. */
  private ParquetPreview preview;

  public LinearJob(JobConfig config, SparkSession spark) {
    this(config, spark, false);
  }

  /**
   * A job that, with {@code report}, also writes {@code OUTPUT/_report.html} (adding a {@code stats} hook for its
   * histograms when the config has none).
   */
  public LinearJob(JobConfig config, SparkSession spark, boolean report) {
    this.config = config;
    this.spark = spark;
    this.report = report;
  }

  /**
   * Runs the job to the end.
   *
   * @throws PreflightException when the input, the columns, the weights or the output path are not right; no task
   *     has run then
   */
  public RunSummary run() {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    List<String> problems = new ArrayList<>();

    LoadedModule loaded = ModuleLoader.load(config, hadoop, problems);
    JobHooks configured = JobHooks.build(config, hadoop, spark.sparkContext(), problems);
    JobHooks hooks = report ? configured.withStatistics(spark.sparkContext(), config.module().outputWidth())
        : configured;
    Dataset<Row> input = openInput(hadoop, problems);
    checkOutputPath(hadoop, problems);
    ModuleTransformer transformer = null;
    if (loaded != null && input != null) {
      transformer = transformerFor(loaded).setKeepCols(keptColumns(input).toArray(new String[0]));
      try {
        transformer.transformSchema(input.schema());
        if (config.invalidRows() == InvalidRowPolicy.ERROR) {
          // Under another policy a first row of the wrong width is just an invalid row.
          checkSampleWidth(input, problems);
        }
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new PreflightException(config.source(), problems);
    }

    // Registered before the transformer broadcasts the module, so that the hooks travel with it.
    hooks.registerOn(loaded.module());
    BlockCounters counters = BlockCounters.register(spark.sparkContext());
    Dataset<Row> output = withLineage(transformer.setCounters(counters).transform(input), input, loaded);
    OutputPlacement placement = OutputPlacement.begin(config.output().path(),
        config.output().mode() == OutputMode.OVERWRITE, hadoop);
    RunSummary summary;
    try {
      Writer writer = writerFor(output.schema());
      if (writer.columnar()) {
        ColumnarParquetWriter.write(output, placement.path(), config.output().parquetLists(), Map.of());
      } else {
        Map<String, String> options = config.output().format() == OutputFormat.PARQUET
            ? ParquetOutput.dictionaryOff(output.schema(), computedColumns(output, input),
                config.output().parquetLists())
            : Map.of();
        ParquetOutput.withLists(spark, config.output().parquetLists(), () -> {
          output.write().mode(SaveMode.ErrorIfExists).format(config.output().format().configValue()).options(options)
              .save(placement.path());
          return null;
        });
      }
      if (config.invalidRows() == InvalidRowPolicy.QUARANTINE) {
        writeQuarantine(transformer, input, hadoop);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      summary = new RunSummary(counters.rowsIn(), counters.rowsOut(), counters.blocks(), seconds,
          loaded.module().toString(), loaded.weightsSource(), loaded.sha256(), loaded.fileMetadata(), spark.version(),
          spark.sparkContext().master(), config.output().path(), config.resolved(), hooks.statistics(),
          config.invalidRows().configValue(), counters.invalidRows(), counters.partitionsByKernel(),
          writer.description());
      writeText(summary.toJson(), new Path(placement.path(), RunSummary.FILE_NAME), hadoop);
      if (report) {
        writeText(ReportPage.render(summary), new Path(placement.path(), ReportPage.FILE_NAME), hadoop);
      }
    } catch (Throwable e) { // Spark throws SparkException, a checked exception, without declaring it
      placement.abort();
      throw e;
    }
    placement.commit();
    return summary;
  }

  /** Which writer writes the output, and how the run summary names it. */
  private record Writer(boolean columnar, String description) {
  }

  /** The columnar writer, or Spark's with the reason when the columnar writer was asked for but cannot write this. */
  private Writer writerFor(StructType schema) {
    if (config.output().format() != OutputFormat.PARQUET) {
      return new Writer(false, "spark");
    }
    if (config.output().parquetWriter() == ParquetWriterKind.SPARK) {
      return new Writer(false, "spark (output.parquet-writer: spark)");
    }
    return ColumnarParquetWriter.unsupported(schema)
        .map(reason -> new Writer(false, "spark (" + reason + ", which the columnar writer does not write)"))
        .orElse(new Writer(true, ParquetWriterKind.COLUMNAR.configValue()));
  }

  /**
   * Puts the module's repr and the weights' SHA-256 into the metadata of the output columns. Spark stores column
   * metadata in every Parquet file's footer (key {@code org.apache.spark.sql.parquet.row.metadata}) and gives it back
   * on read, so each output file says which module and which weights made it. (Spark's Parquet writer offers no way
   * to add footer keys of our own.)
   */
  private static Dataset<Row> withLineage(Dataset<Row> output, Dataset<Row> input, LoadedModule loaded) {
    MetadataBuilder lineage = new MetadataBuilder()
        .putString("module", loaded.module().toString())
        .putString("weights", loaded.weightsSource());
    MetadataBuilder sha256 = new MetadataBuilder();
    loaded.sha256().forEach(sha256::putString);
    lineage.putMetadata("weights_sha256", sha256.build());
    Metadata metadata = new MetadataBuilder().putMetadata(LINEAGE_KEY, lineage.build()).build();
    Dataset<Row> out = output;
    for (String column : computedColumns(output, input)) {
      out = out.withMetadata(column, metadata);
    }
    return out;
  }

  /** The columns the module made: the output's columns that are not input columns. */
  private static List<String> computedColumns(Dataset<Row> output, Dataset<Row> input) {
    List<String> inputColumns = List.of(input.columns());
    return Arrays.stream(output.columns()).filter(column -> !inputColumns.contains(column)).toList();
  }

  /** Writes the invalid rows, with their reason, to output.quarantine-path, replacing it as an overwrite does. */
  private void writeQuarantine(ModuleTransformer transformer, Dataset<Row> input, Configuration hadoop) {
    OutputPlacement staged = OutputPlacement.begin(config.output().quarantinePath(), true, hadoop);
    try {
      ParquetOutput.withLists(spark, config.output().parquetLists(), () -> {
        transformer.invalidRowsOf(input).write().mode(SaveMode.ErrorIfExists)
            .format(config.output().format().configValue()).save(staged.path());
        return null;
      });
    } catch (Throwable e) { // SparkException is checked but thrown undeclared
      staged.abort();
      throw e;
    }
    staged.commit();
  }

  private ModuleTransformer transformerFor(LoadedModule loaded) {
    ModuleTransformer transformer = new ModuleTransformer(loaded.module(), loaded.inFeatures(), loaded.outFeatures())
        .setInvalidRows(config.invalidRows())
        .setRejectNonFinite(config.hooks().pre().stream().anyMatch(Hook::rejectsNonFinite))
        .setOutputCol(config.output().column())
        .setOutputLayout(config.output().layout())
        .setBlockMaxRows(config.block().maxRows())
        .setBlockMaxBytes(config.block().maxBytes())
        .setParquetReader(config.input().parquetReader());
    if (config.input().column() != null) {
      transformer.setInputCol(config.input().column());
    } else {
      transformer.setInputCols(config.input().columns().toArray(new String[0]));
    }
    return transformer;
  }

  /** The input, or null with a problem recorded when it is missing or unreadable. Also what {@code fit} reads. */
  Dataset<Row> openInput(Configuration hadoop, List<String> problems) {
    Path path = new Path(config.input().path());
    FileSystem fs;
    FileStatus[] matches;
    try {
      fs = path.getFileSystem(hadoop);
      matches = fs.globStatus(path);
      if (matches == null || matches.length == 0) {
        problems.add("Input path " + config.input().path() + " does not exist (input.path). Check the path, or run"
            + " 'spark-linear generate' to make sample data.");
        return null;
      }
      if (!holdsDataFile(fs, matches)) {
        problems.add("Input path " + config.input().path() + " holds no data files (input.path): the folder is empty"
            + " or holds only hidden files (names starting with _ or .). Check the path, or write the input first.");
        return null;
      }
    } catch (IOException e) {
      problems.add("Cannot read input path " + config.input().path() + " (input.path): " + e.getMessage()
          + ". Check the path, its scheme (file:, hdfs:, s3a:, ...) and that it may be read.");
      return null;
    }
    DataFrameReader reader = spark.read().format(config.input().format()).options(config.input().options());
    try {
      if (config.input().format().equalsIgnoreCase("parquet")) {
        preview = ParquetPreview.of(fs, matches, config.input().options(), hadoop).orElse(null);
        if (preview != null) {
          reader = reader.schema(preview.schema()); // given the schema, Spark runs no schema-inference job
        }
      }
      return reader.load(config.input().path());
    } catch (Exception e) { // Spark throws its checked exceptions (a damaged file's footer) without declaring them
      problems.add("Cannot read " + config.input().path() + " as " + config.input().format()
          + " (input.path, input.format): "
          + (e.getMessage() == null ? "unknown error" : e.getMessage().lines().findFirst().orElse("")));
      return null;
    }
  }


  /**
   * Whether any of {@code matches} is, or holds at any depth, a file that Spark reads: Spark skips names starting with
   * {@code _} or {@code .}, and finds no schema in a folder without data files. Stops at the first one found.
   */
  private static boolean holdsDataFile(FileSystem fs, FileStatus[] matches) throws IOException {
    for (FileStatus match : matches) {
      if (!match.isDirectory()) {
        return true;
      }
      RemoteIterator<LocatedFileStatus> files = fs.listFiles(match.getPath(), true);
      while (files.hasNext()) {
        String name = files.next().getPath().getName();
        if (!name.startsWith("_") && !name.startsWith(".")) {
          return true;
        }
      }
    }
    return false;
  }

  /** The passed-through columns: output.keep, or every column but the features. */
  private List<String> keptColumns(Dataset<Row> input) {
    if (config.output().keep() != null) {
      return config.output().keep();
    }
    List<String> features = config.input().column() != null ? List.of(config.input().column())
        : config.input().columns();
    return List.of(input.columns()).stream().filter(c -> !features.contains(c)).toList();
  }

  private static Column column(String name) {
    return functions.col("`" + name.replace("`", "``") + "`");
  }

  /**
   * Looks at one row to catch a width mismatch before any task runs: in the Parquet preview (no Spark job), else with
   * a one-row Spark job.
   */
  private void checkSampleWidth(Dataset<Row> input, List<String> problems) {
    String column = config.input().column();
    if (column == null) {
      return;
    }
    OptionalInt previewed = preview == null ? OptionalInt.empty() : preview.firstWidth(column);
    if (previewed.isPresent()) {
      checkWidth(previewed.getAsInt(), column, problems);
      return;
    }
    Column values = column(column);
    if (input.schema().apply(column).dataType().equals(SQLDataTypes.VectorType())) {
      values = org.apache.spark.ml.functions.vector_to_array(values, "float64"); // size() takes arrays only
    }
    List<Row> sample = input.select(functions.size(values)).where(column(column).isNotNull()).limit(1)
        .collectAsList();
    if (!sample.isEmpty()) {
      checkWidth(sample.get(0).getInt(0), column, problems);
    }
  }

  private void checkWidth(int width, String column, List<String> problems) {
    int in = config.module().inputWidth();
    if (width != in) {
      problems.add(config.module().layers() == null ? "Column '" + column + "' holds vectors of " + width
          + " values, but module.in-features is " + in + ": "
          + Linear.shapeMismatch(1, width, in, config.module().outFeatures()) + ". Set module.in-features to " + width
          + " or check input.column."
          : "Column '" + column + "' holds vectors of " + width + " values, but the first layer of module.layers"
          + " with a width takes " + in + ". Check input.column, or make module.layers start from " + width + ".");
    }
  }

  /** Records a problem when the output path exists under errorifexists or is the input path. Also {@code fit}'s. */
  void checkOutputPath(Configuration hadoop, List<String> problems) {
    Path path = new Path(config.output().path());
    try {
      FileSystem fs = path.getFileSystem(hadoop);
      if (fs.exists(path) && config.output().mode() == OutputMode.ERRORIFEXISTS) {
        problems.add("Output path " + config.output().path() + " already exists and output.mode is errorifexists."
            + " Remove it, choose another output.path, or set output.mode=overwrite.");
      }
      if (fs.makeQualified(path).equals(qualifiedOn(fs, new Path(config.input().path())))) {
        problems.add("output.path is the same as input.path (" + config.input().path() + "): the job would overwrite"
            + " its own input. Choose another output.path.");
      }
    } catch (IOException e) {
      problems.add("Cannot check output path " + config.output().path() + ": " + e.getMessage());
    }
  }

  /** {@code path} qualified on {@code fs}, or null when it belongs to another file system (its own problem). */
  private static Path qualifiedOn(FileSystem fs, Path path) {
    try {
      return fs.makeQualified(path);
    } catch (IllegalArgumentException e) { // "Wrong FS": another scheme, so not the output path
      return null;
    }
  }

  static void writeText(String text, Path path, Configuration hadoop) {
    try (OutputStream out = path.getFileSystem(hadoop).create(path, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }
}
