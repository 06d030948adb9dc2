package dev.sparklinear.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.ml.util.ReadWriteUtils$;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import org.json4s.JInt;
import org.json4s.JObject;
import org.json4s.JValue;
import scala.Option;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A Spark ML {@link Transformer} that runs a module (a {@link Linear} layer, or a whole head such as a
 * {@code Sequential}) over a feature column, block by block, through the module's whole {@code call()} hook pipeline.
 *
 * <pre>{@code
 * Dataset<Row> scored = new ModuleTransformer(new Linear(64, 16, true, 7))
 *     .setInputCol("features")
 *     .setOutputCol("output")
 *     .transform(features);
 * Sequential head = new Sequential(new Linear(64, 256), new ReLU(), new Linear(256, 16));
 * Dataset<Row> headScores = new ModuleTransformer(head, 64, 16).setInputCol("features").transform(features);
 * }</pre>
 *
 * <p>Input: one column of {@code array<float>}, {@code array<double>} or Spark ML vectors (dense or sparse), or
 * ({@link #setInputCols}) a list of numeric scalar columns. Doubles are computed in float32, as PyTorch does after
 * {@code .float()}. Output: by {@link #setOutputLayout}, {@code array<float>}, a dense vector, or one float column per
 * output. The other columns pass through unchanged and in order (all of them by default, as Spark ML transformers
 * do; {@link #setKeepCols} narrows them); each partition's row order is kept. A row the module cannot take fails
 * the transform, is skipped, or gets a null output, by Spark ML's {@code handleInvalid} ({@code error}, {@code skip},
 * {@code keep}) or the job's {@link #setInvalidRows}, which also has {@code quarantine}.
 *
 * <p>When the input is a plain Parquet file scan and the feature column an {@code array<float>}, the feature column
 * is decoded by spark-linear's own page reader while Spark reads the kept columns ({@link #setParquetReader}); the
 * rows, values and invalid-row handling are those of Spark's reader.
 *
 * <p>The module is broadcast once per {@code transform} and shared by the tasks of each executor. Hooks registered on
 * it travel with it when they are {@link java.io.Serializable}.
 *
 * <p><b>Saving.</b> The transformer is {@link MLWritable} and {@link #read() readable}, so it saves and loads alone
 * ({@code transformer.write().overwrite().save(path)}, {@code ModuleTransformer.load(path)}) and inside a
 * {@code PipelineModel}, through any Hadoop file system URI. Under the path: Spark's {@code metadata/} (class, uid,
 * params, and {@code inFeatures}/{@code outFeatures}), {@code architecture.json} (the module tree as PyTorch class
 * names and constructor arguments, with each module's training mode) and {@code module.safetensors} (its state dict
 * under PyTorch's keys). PyTorch loads the weights into the same tree with
 * {@code model.load_state_dict(load_file(path + "/module.safetensors"))} ({@code load_file} of
 * {@code safetensors.torch}). Only trees of this project's modules can be saved (see
 * {@link dev.sparklinear.core.nn.ModuleArchitecture}); hooks and {@link #setCounters counters} are not saved: register
 * them again after loading.
 */
public class ModuleTransformer extends Transformer implements MLWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Module module;
  private final int inFeatures;
  private final int outFeatures;
  private BlockCounters counters;

  // Params capture their parent's uid when made, so they are made in the constructor, after the uid is set.
  private final Param<String> inputCol;
  private final StringArrayParam inputCols;
  private final Param<String> outputCol;
  private final Param<String> outputLayout;
  private final StringArrayParam keepCols;
  private final IntParam blockMaxRows;
  private final LongParam blockMaxBytes;
  private final BooleanParam columnarInput;
  private final Param<String> invalidRows;
  private final Param<String> handleInvalid;
  private final BooleanParam rejectNonFinite;
  private final Param<String> parquetReader;

  public ModuleTransformer(Linear linear) {
    this(linear, linear.inFeatures(), linear.outFeatures());
  }

  /** Runs any module that maps {@code inFeatures} columns to {@code outFeatures}. */
  public ModuleTransformer(Module module, int inFeatures, int outFeatures) {
    this("module_" + UUID.randomUUID().toString().substring(0, 12), module, inFeatures, outFeatures);
  }

  private ModuleTransformer(String uid, Module module, int inFeatures, int outFeatures) {
    this.uid = uid;
    this.module = module;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    inputCol = new Param<>(this, "inputCol", "the feature vector column");
    inputCols = new StringArrayParam(this, "inputCols", "numeric scalar columns forming the feature vector, in order");
    outputCol = new Param<>(this, "outputCol", "the output column (or column prefix)");
    outputLayout = new Param<>(this, "outputLayout", "array, vector or columns",
        ParamValidators.inArray(new String[] {"array", "vector", "columns"}));
    keepCols = new StringArrayParam(this, "keepCols", "input columns to pass through (default: all)");
    blockMaxRows = new IntParam(this, "blockMaxRows", "rows per block at most", ParamValidators.gt(0));
    blockMaxBytes = new LongParam(this, "blockMaxBytes",
        "bytes per block at most (features, outputs and passed-through columns)", ParamValidators.gt(0));
    columnarInput = new BooleanParam(this, "columnarInput",
        "read the features straight from a columnar source's batches when the plan allows it");
    invalidRows = new Param<>(this, "invalidRows",
        "what to do with a row the module cannot take: error, skip, null or quarantine",
        ParamValidators.inArray(new String[] {"error", "skip", "null", "quarantine"}));
    handleInvalid = new Param<>(this, "handleInvalid", "how to handle invalid rows (a null vector or element, the"
        + " wrong width, or a refused NaN): 'error' (throw an error), 'skip' (filter out such rows) or 'keep' (write"
        + " them with a null output); sets invalidRows too",
        ParamValidators.inArray(new String[] {"error", "skip", "keep"}));
    rejectNonFinite = new BooleanParam(this, "rejectNonFinite",
        "whether a NaN or infinite feature makes a row invalid");
    parquetReader = new Param<>(this, "parquetReader", "who reads an array<float> feature column of a plain Parquet"
        + " file scan: auto (spark-linear's page decoder, Spark's reader for the other columns) or spark",
        ParamValidators.inArray(new String[] {"auto", "spark"}));
    setDefault(parquetReader, "auto");
    setDefault(invalidRows, "error");
    setDefault(handleInvalid, "error");
    setDefault(rejectNonFinite, (Object) false);
    setDefault(outputCol, "output");
    setDefault(columnarInput, (Object) true);
    setDefault(outputLayout, "array");
    setDefault(blockMaxRows, (Object) 4096);
    setDefault(blockMaxBytes, (Object) (8L << 20));
  }

  // ------------------------------------------------------------------------------------------------------ params

  public Param<String> inputCol() {
    return inputCol;
  }

  public StringArrayParam inputCols() {
    return inputCols;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> outputLayout() {
    return outputLayout;
  }

  public StringArrayParam keepCols() {
    return keepCols;
  }

  public IntParam blockMaxRows() {
    return blockMaxRows;
  }

  public LongParam blockMaxBytes() {
    return blockMaxBytes;
  }

  public BooleanParam columnarInput() {
    return columnarInput;
  }

  /** Whether a columnar source is read batch by batch (the default); false always takes rows, for comparison. */
  public ModuleTransformer setColumnarInput(boolean value) {
    return with(columnarInput, value);
  }

  public Param<String> parquetReader() {
    return parquetReader;
  }

  /**
   * Who reads the feature column when the input is a plain Parquet file scan of an {@code array<float>} column read
   * columnar: {@code AUTO} (the default) decodes its pages in bulk straight into the feature block while Spark reads
   * the kept columns; {@code SPARK} leaves every column to Spark's reader. Other inputs are always read by Spark.
   */
  public ModuleTransformer setParquetReader(ParquetReaderKind value) {
    return with(parquetReader, value.configValue());
  }

  public Param<String> invalidRows() {
    return invalidRows;
  }

  public Param<String> handleInvalid() {
    return handleInvalid;
  }

  public String getHandleInvalid() {
    return $(handleInvalid);
  }

  public BooleanParam rejectNonFinite() {
    return rejectNonFinite;
  }

  /**
   * What to do with a row the module cannot take (a null vector or element, the wrong width, or with
   * {@link #setRejectNonFinite} a NaN or infinite value): fail (the default), skip it, give it a null output, or
   * leave it out for {@link #invalidRowsOf} (quarantine).
   */
  public ModuleTransformer setInvalidRows(InvalidRowPolicy value) {
    set(invalidRows, value.configValue());
    set(handleInvalid, value.handleInvalid);
    return this;
  }

  /**
   * Spark ML's spelling of {@link #setInvalidRows}: {@code error}, {@code skip}, or {@code keep} (a null output).
   * Both setters set both params, so the last one called wins; after {@code setInvalidRows(QUARANTINE)},
   * {@link #getHandleInvalid} says {@code skip}, which is what {@code transform} does with those rows.
   */
  public ModuleTransformer setHandleInvalid(String value) {
    set(handleInvalid, value);
    set(invalidRows, InvalidRowPolicy.ofHandleInvalid(value).configValue());
    return this;
  }

  /**
   * The invalid-row policy. Only {@code set(param, value)}, or a param map naming both, can set the two params apart:
   * then the one set decides, and two that disagree are an error.
   */
  private InvalidRowPolicy invalidRowPolicy() {
    InvalidRowPolicy policy = ConfigEnum.parse(InvalidRowPolicy.class, $(invalidRows), "invalid-row policy");
    if (!isSet(invalidRows) || !isSet(handleInvalid) || policy.handleInvalid.equals($(handleInvalid))) {
      return isSet(invalidRows) ? policy : InvalidRowPolicy.ofHandleInvalid($(handleInvalid));
    }
    throw new IllegalArgumentException("Params handleInvalid=" + $(handleInvalid) + " and invalidRows="
        + $(invalidRows) + " disagree: set the invalid-row policy with setHandleInvalid or setInvalidRows");
  }

  public ModuleTransformer setRejectNonFinite(boolean value) {
    return with(rejectNonFinite, value);
  }

  public ModuleTransformer setInputCol(String value) {
    return with(inputCol, value);
  }

  public ModuleTransformer setInputCols(String... value) {
    return with(inputCols, value);
  }

  public ModuleTransformer setOutputCol(String value) {
    return with(outputCol, value);
  }

  public ModuleTransformer setOutputLayout(OutputLayout value) {
    return with(outputLayout, value.configValue());
  }

  public ModuleTransformer setKeepCols(String... value) {
    return with(keepCols, value);
  }

  public ModuleTransformer setBlockMaxRows(int value) {
    return with(blockMaxRows, value);
  }

  public ModuleTransformer setBlockMaxBytes(long value) {
    return with(blockMaxBytes, value);
  }

  /** Sets {@code param}, for the setters, which Spark ML's typed {@code set} would make casts of. */
  @SuppressWarnings("unchecked")
  private ModuleTransformer with(Param<?> param, Object value) {
    set((Param<Object>) param, value);
    return this;
  }

  /** Counts rows and blocks of the following transforms into {@code counters} (null: no counting). */
  public ModuleTransformer setCounters(BlockCounters counters) {
    this.counters = counters;
    return this;
  }

  public Module module() {
    return module;
  }

  // ------------------------------------------------------------------------------------------------- transforming

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return planFor(schema).outputSchema;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    Plan plan = planFor(dataset.schema());
    Dataset<Row> projected = select(dataset, plan.kept, plan.featureColumns);

    SparkSession session = (SparkSession) dataset.sparkSession();
    Broadcast<Module> broadcast = JavaSparkContext.fromSparkContext(session.sparkContext()).broadcast(module);
    PartitionPlan partitionPlan = plan.partitionPlan;
    Optional<ColumnarInput> columnar = (Boolean) $(columnarInput) ? ColumnarInput.of(projected) : Optional.empty();
    int[] ordinals = columnar.map(ColumnarInput::ordinals).orElse(null);
    Optional<ParquetFeatureScan> parquet = parquetScan(session, dataset, plan, columnar);
    if (parquet.isPresent()) {
      int[] keptOrdinals = parquet.get().keptOrdinals();
      String column = parquet.get().column();
      Broadcast<SerializableConfiguration> conf = parquet.get().hadoopConf();
      JavaRDD<InternalRow> output = parquet.get().keptScan().executeColumnar().toJavaRDD().mapPartitions(batches ->
          PartitionRunner.overParquetFeatures(batches, partitionModule(broadcast, partitionPlan), partitionPlan,
              keptOrdinals, column, conf.value().value()));
      return session.internalCreateDataFrame(output.rdd(), plan.outputSchema, false);
    }
    JavaRDD<InternalRow> output = columnar.isPresent()
        ? columnar.get().source().executeColumnar().toJavaRDD().mapPartitions(batches -> PartitionRunner.overBatches(
            batches, partitionModule(broadcast, partitionPlan), partitionPlan, ordinals))
        : projected.queryExecution().toRdd().toJavaRDD().mapPartitions(rows -> PartitionRunner.overRows(
            rows, partitionModule(broadcast, partitionPlan), partitionPlan));
    return session.internalCreateDataFrame(output.rdd(), plan.outputSchema, false);
  }

  /** The scan whose feature column our own reader reads, when the param and the plan allow it. */
  private Optional<ParquetFeatureScan> parquetScan(SparkSession session, Dataset<?> dataset, Plan plan,
      Optional<ColumnarInput> columnar) {
    boolean auto = ConfigEnum.parse(ParquetReaderKind.class, $(parquetReader), "Parquet reader")
        == ParquetReaderKind.AUTO;
    return columnar.isPresent() && isSet(inputCol) && auto
        ? ParquetFeatureScan.of(session, columnar.get(), select(dataset, plan.kept, List.of()))
        : Optional.empty();
  }

  /** Whether {@link #transform} would read {@code dataset}'s features with our own Parquet reader (for tests). */
  boolean readsParquetFeatures(Dataset<?> dataset) {
    Plan plan = planFor(dataset.schema());
    Dataset<Row> projected = select(dataset, plan.kept, plan.featureColumns);
    Optional<ColumnarInput> columnar = (Boolean) $(columnarInput) ? ColumnarInput.of(projected) : Optional.empty();
    return parquetScan((SparkSession) dataset.sparkSession(), dataset, plan, columnar).isPresent();
  }

  /**
   * On an executor, at the start of a partition: the module, its kernel counted. Spark deserializes a broadcast once
   * per executor JVM and hands every task that instance (its block manager holds the value), so concurrent tasks share
   * one module and its kernel is packed once per executor.
   */
  private static Module partitionModule(Broadcast<Module> broadcast, PartitionPlan plan) {
    Module module = broadcast.value();
    plan.countPartition(module);
    return module;
  }

  /**
   * The rows of {@code dataset} that the module cannot take, by the same rules as {@link #transform}: every input
   * column plus {@code reason} ({@code null-vector}, {@code null-element}, {@code wrong-width}, {@code non-finite}).
   * What {@code invalid-rows: quarantine} writes; it reads the input again but runs no module.
   */
  public Dataset<Row> invalidRowsOf(Dataset<?> dataset) {
    StructType schema = dataset.schema();
    Plan plan = planFor(schema);
    Dataset<Row> projected = select(dataset, Arrays.asList(schema.fieldNames()), plan.featureColumns);
    FeatureReader reader = readerFor(schema, plan.featureColumns, schema.size());
    DataType[] types = Arrays.stream(schema.fields()).map(StructField::dataType).toArray(DataType[]::new);
    int width = inFeatures;
    JavaRDD<InternalRow> invalid = projected.queryExecution().toRdd().toJavaRDD()
        .mapPartitions(rows -> new InvalidRowFilter(rows, reader, types, width));
    StructType out = schema.add(REASON_COLUMN, org.apache.spark.sql.types.DataTypes.StringType, false);
    return ((SparkSession) dataset.sparkSession()).internalCreateDataFrame(invalid.rdd(), out, false);
  }

  /** The column of {@link #invalidRowsOf} that says why a row is invalid. */
  public static final String REASON_COLUMN = "reason";

  /** {@code dataset}'s columns {@code first}, then {@code then}, by name (quoted: a name may hold dots). */
  private static Dataset<Row> select(Dataset<?> dataset, List<String> first, List<String> then) {
    return dataset.select(Stream.concat(first.stream(), then.stream())
        .map(name -> functions.col("`" + name.replace("`", "``") + "`")).toArray(Column[]::new));
  }

  /** The columns and block plan for an input schema, with every schema problem reported as a clear error. */
  private Plan planFor(StructType schema) {
    boolean single = isDefined(inputCol) && isSet(inputCol);
    boolean multiple = isDefined(inputCols) && isSet(inputCols);
    if (single == multiple) {
      throw new IllegalArgumentException(
          "Set exactly one of inputCol (a vector column) and inputCols (numeric scalar columns)");
    }
    List<String> featureColumns = single ? List.of($(inputCol)) : Arrays.asList($(inputCols));
    Set<String> available = new LinkedHashSet<>(Arrays.asList(schema.fieldNames()));
    for (String column : featureColumns) {
      requireColumn(available, column, "feature");
    }
    List<String> kept;
    if (isSet(keepCols)) {
      kept = Arrays.asList($(keepCols));
      kept.forEach(column -> requireColumn(available, column, "kept"));
    } else {
      kept = new ArrayList<>(available);
    }
    StructType keptSchema = new StructType(kept.stream().map(schema::apply).toArray(StructField[]::new));
    FeatureReader reader = readerFor(schema, featureColumns, kept.size());
    if (!single && featureColumns.size() != inFeatures) {
      throw new IllegalArgumentException(
          "inputCols names " + featureColumns.size() + " columns " + featureColumns + ", but the module takes"
              + " in_features=" + inFeatures + " (" + Linear.shapeMismatch(1, featureColumns.size(), inFeatures, outFeatures) + ")");
    }
    OutputLayout layout = ConfigEnum.parse(OutputLayout.class, $(outputLayout), "output layout");
    InvalidRowPolicy policy = invalidRowPolicy();
    BlockColumns outputColumns = BlockColumns.of(layout, $(outputCol), outFeatures, policy == InvalidRowPolicy.NULL,
        new BlockRowMap(0));
    StructType outputSchema = keptSchema;
    for (StructField field : outputColumns.fields()) {
      if (kept.contains(field.name())) {
        throw new IllegalArgumentException("Output column '" + field.name() + "' already exists in the input;"
            + " choose another output column name or leave that column out of the kept columns");
      }
      outputSchema = outputSchema.add(field);
    }
    long rowBytes = 4L * (inFeatures + outFeatures);
    long maxBytes = (Long) $(blockMaxBytes);
    int rows = (int) Math.max(1, Math.min((Integer) $(blockMaxRows), maxBytes / rowBytes));
    PartitionPlan partitionPlan = new PartitionPlan(inFeatures, outFeatures, rows, maxBytes, keptSchema, reader, layout,
        $(outputCol), module.toString(), policy, counters);
    return new Plan(featureColumns, kept, outputSchema, partitionPlan);
  }

  /** The reader of the feature columns, which the rows handed to it hold from ordinal {@code first} on. */
  private FeatureReader readerFor(StructType schema, List<String> featureColumns, int first) {
    FeatureReader reader = isSet(inputCol) ? FeatureReader.forColumn(schema, featureColumns.get(0), first)
        : FeatureReader.forScalarColumns(schema, featureColumns, first);
    reader.rejectNonFinite = (Boolean) $(rejectNonFinite);
    return reader;
  }

  private static void requireColumn(Set<String> available, String column, String role) {
    if (!available.contains(column)) {
      throw new IllegalArgumentException("The " + role + " column '" + column + "' does not exist. Available columns: "
          + available);
    }
  }

  private record Plan(List<String> featureColumns, List<String> kept, StructType outputSchema,
      PartitionPlan partitionPlan) {}

  @Override
  public ModuleTransformer copy(ParamMap extra) {
    ModuleTransformer copy = copyValues(new ModuleTransformer(uid, module, inFeatures, outFeatures), extra);
    // A param map that sets one of the two invalid-row params sets the other as the setters do.
    if (extra.contains(handleInvalid) && !extra.contains(invalidRows)) {
      copy.setHandleInvalid(extra.apply(handleInvalid));
    } else if (extra.contains(invalidRows) && !extra.contains(handleInvalid)) {
      copy.setInvalidRows(ConfigEnum.parse(InvalidRowPolicy.class, extra.apply(invalidRows), "invalid-row policy"));
    }
    return copy.setCounters(counters);
  }

  @Override
  public String toString() {
    return "ModuleTransformer(uid=" + uid + ", module=" + module + ")";
  }

  // ------------------------------------------------------------------------------------------------- persistence

  /** A writer that saves this transformer's params and module; {@code overwrite()} replaces an existing path. */
  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** The reader Spark's {@code PipelineModel.load} finds by reflection, as for its own stages. */
  public static MLReader<ModuleTransformer> read() {
    return new Reader();
  }

  /** Loads a transformer saved with {@link #write()}: the same uid, params and module (in the same modes). */
  public static ModuleTransformer load(String path) {
    return read().load(path);
  }

  private static final String IN_FEATURES = "inFeatures";
  private static final String OUT_FEATURES = "outFeatures";

  /** The file system of {@code path}, or the local one while Spark saves or loads "to local" (Spark Connect). */
  private static FileSystem fileSystem(org.apache.spark.sql.SparkSession session, Path path) throws IOException {
    Configuration conf = session instanceof SparkSession classic ? classic.sessionState().newHadoopConf()
        : session.sparkContext().hadoopConfiguration();
    boolean local = Boolean.TRUE.equals(ReadWriteUtils$.MODULE$.localSavingModeState().get());
    return local ? FileSystem.getLocal(conf) : path.getFileSystem(conf);
  }

  private static final class Writer extends MLWriter {
    private final ModuleTransformer instance;

    Writer(ModuleTransformer instance) {
      this.instance = instance;
    }

    /** Refuses a module that cannot be saved before Spark clears an existing path for {@code overwrite()}. */
    @Override
    public void save(String path) throws IOException {
      SavedModule.architectureOf(instance.module);
      super.save(path);
    }

    @Override
    public void saveImpl(String path) {
      List<Tuple2<String, JValue>> extra = List.of(
          new Tuple2<>(IN_FEATURES, new JInt(scala.math.BigInt.apply(instance.inFeatures))),
          new Tuple2<>(OUT_FEATURES, new JInt(scala.math.BigInt.apply(instance.outFeatures))));
      JObject extraMetadata = new JObject(CollectionConverters.asScala(extra).toList());
      DefaultParamsWriter$.MODULE$.saveMetadata(instance, path, sparkSession(), Option.apply(extraMetadata),
          Option.empty());
      try {
        Path dir = new Path(path);
        SavedModule.save(instance.module, fileSystem(sparkSession(), dir), dir);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot save the module of " + instance.uid + " to " + path, e);
      }
    }
  }

  private static final class Reader extends MLReader<ModuleTransformer> {
    @Override
    public ModuleTransformer load(String path) {
      DefaultParamsReader.Metadata metadata =
          DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(), ModuleTransformer.class.getName());
      JsonNode json;
      try {
        json = new ObjectMapper().readTree(metadata.metadataJson());
      } catch (IOException e) {
        throw new IllegalArgumentException("Cannot load the transformer saved in " + path + ": its metadata is not"
            + " JSON", e);
      }
      Path dir = new Path(path);
      Module module;
      try {
        module = SavedModule.load(fileSystem(sparkSession(), dir), dir);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot load the module saved in " + path, e);
      }
      ModuleTransformer transformer = new ModuleTransformer(metadata.uid(), module,
          features(json, IN_FEATURES, path), features(json, OUT_FEATURES, path));
      metadata.getAndSetParams(transformer, Option.empty());
      return transformer;
    }

    private static int features(JsonNode metadata, String field, String path) {
      JsonNode value = metadata.get(field);
      if (value == null || !value.canConvertToInt() || value.intValue() <= 0) {
        throw new IllegalArgumentException("Cannot load the transformer saved in " + path + ": its metadata has "
            + field + "=" + value + ", not a positive integer");
      }
      return value.intValue();
    }
  }
}
