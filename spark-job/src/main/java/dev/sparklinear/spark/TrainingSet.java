package dev.sparklinear.spark;

import dev.sparklinear.core.loss.Loss;
import dev.sparklinear.core.nn.Module;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.util.TaskCompletionListener;

/**
 * A fit's training rows, read from the input once and kept in executor memory as float blocks
 * ({@link TrainingBlock}) between epochs, and the epoch step over them.
 *
 * <pre>{@code
 * try (TrainingSet rows = TrainingSet.read(input, spec)) {       // one pass over the input
 *   GradientSum sum = rows.gradient(module, new MSELoss());      // one epoch: every partition, added in order
 *   ... set each parameter's grad to sum.meanGradient(i), optimizer.step() ...
 * }                                                               // the cached blocks are released
 * }</pre>
 *
 * <p>Rows go through the job's feature readers and invalid-row policy, as {@code run}'s do; NaN or infinite features
 * make a row invalid too, as a NaN label does. Invalid rows are counted by reason in the blocks themselves (not in
 * accumulators), so counts stay exact when a lost block is read again. The blocks are persisted
 * {@code MEMORY_AND_DISK}: a block that does not fit in memory spills to the executor's disk instead of being read from
 * the source again.
 */
public final class TrainingSet implements AutoCloseable {
  /** The reasons a row is left out of a fit, as the run summary and the quarantine's {@code reason} column spell them. */
  public static final List<String> INVALID_REASONS = Stream.concat(
      Arrays.stream(FeatureReader.Problem.values()).map(ConfigEnum::configValue),
      Arrays.stream(LabelReader.Problem.values()).map(ConfigEnum::configValue)).toList();

  private static final int KEY_COLUMNS = 3;

  /**
   * What to read: the feature column (or numeric scalar columns), the label column and how to read it, the widths,
   * what to do with invalid rows, and how many rows a block holds.
   *
   * @param featureColumn the vector column, or null with {@code featureColumns}
   * @param featureColumns numeric scalar columns forming the feature vector, or null with {@code featureColumn}
   * @param labelColumn the label column
   * @param classIndices whether labels are class indices (cross-entropy) rather than float targets
   * @param lossName the loss as the config spells it, for messages
   */
  public record Spec(String featureColumn, List<String> featureColumns, String labelColumn, int inFeatures,
      int outFeatures, boolean classIndices, String lossName, InvalidRowPolicy invalidRows, int blockRows)
      implements java.io.Serializable {
    List<String> features() {
      return featureColumn != null ? List.of(featureColumn) : featureColumns;
    }
  }

  /**
   * What reading found.
   *
   * @param rowsRead input rows read
   * @param rowsUsed valid rows kept for training
   * @param blocks blocks kept
   * @param partitions partitions of the input
   * @param invalidRows invalid rows by reason, every reason listed
   */
  public record Counts(long rowsRead, long rowsUsed, long blocks, int partitions, Map<String, Long> invalidRows) {
    public long invalidTotal() {
      return invalidRows.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private final JavaRDD<TrainingBlock> blocks;
  private final Spec spec;
  private final Counts counts;

  private TrainingSet(JavaRDD<TrainingBlock> blocks, Spec spec, Counts counts) {
    this.blocks = blocks;
    this.spec = spec;
    this.counts = counts;
  }

  /**
   * Checks that {@code schema} has the columns {@code spec} names, of types it can read.
   *
   * @throws IllegalArgumentException naming the column, its type and what it must be
   */
  public static void checkSchema(StructType schema, Spec spec) {
    Plan.of(schema, spec);
  }

  /**
   * Reads {@code input} once into cached blocks and counts what it read. Under {@code invalid-rows: error} the first
   * invalid row fails the read with an {@link InvalidRowException} naming it.
   */
  public static TrainingSet read(Dataset<Row> input, Spec spec) {
    Plan plan = Plan.of(input.schema(), spec);
    Dataset<Row> projected = input.select(Stream.of(plan.keys, spec.features(), List.of(spec.labelColumn()))
        .flatMap(List::stream).map(TrainingSet::column).toArray(Column[]::new));
    PartitionPlan partitionPlan = plan.partitionPlan;
    LabelReader labels = plan.labels;
    JavaRDD<TrainingBlock> blocks = projected.queryExecution().toRdd().toJavaRDD()
        .mapPartitions(rows -> new BlockReader(rows, partitionPlan, labels, spec));
    blocks.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return new TrainingSet(blocks, spec, count(blocks));
    } catch (RuntimeException | Error e) {
      blocks.unpersist(false);
      throw e;
    }
  }

  /** Materialises the cache and adds up its counts, in partition order. */
  private static Counts count(JavaRDD<TrainingBlock> blocks) {
    List<long[]> perPartition = blocks.mapPartitions(it -> {
      long[] c = new long[3 + INVALID_REASONS.size()];
      while (it.hasNext()) {
        TrainingBlock block = it.next();
        c[0] += block.rowsRead();
        c[1] += block.rows();
        c[2]++;
        for (int i = 0; i < block.invalid().length; i++) {
          c[3 + i] += block.invalid()[i];
        }
      }
      return List.of(c).iterator();
    }).collect();
    long[] total = new long[3 + INVALID_REASONS.size()];
    perPartition.forEach(c -> Arrays.setAll(total, i -> total[i] + c[i]));
    Map<String, Long> invalid = new LinkedHashMap<>();
    for (int i = 0; i < INVALID_REASONS.size(); i++) {
      invalid.put(INVALID_REASONS.get(i), total[3 + i]);
    }
    return new Counts(total[0], total[1], total[2], perPartition.size(), Collections.unmodifiableMap(invalid));
  }

  public Counts counts() {
    return counts;
  }

  /**
   * One epoch: every partition's forward and backward pass for {@code module}'s current parameters, sent to the
   * tasks once for the epoch, added up in partition order (the same bits on every run over the same partitions).
   */
  public GradientSum gradient(Module module, Loss<?> loss) {
    JavaSparkContext context = JavaSparkContext.fromSparkContext(blocks.context());
    Broadcast<Module> parameters = context.broadcast(module);
    int in = spec.inFeatures();
    int out = spec.outFeatures();
    try {
      List<GradientSum> partitions = blocks.mapPartitions(
          it -> List.of(PartitionGradient.of(it, parameters.value(), loss, in, out)).iterator()).collect();
      GradientSum total = partitions.get(0);
      for (GradientSum partition : partitions.subList(1, partitions.size())) {
        total = total.plus(partition);
      }
      return total;
    } finally {
      parameters.destroy();
    }
  }

  /**
   * The invalid rows of {@code input} by the same rules as {@link #read}: every input column plus {@code reason}.
   * Reads the input again; what {@code invalid-rows: quarantine} writes.
   */
  public static Dataset<Row> invalidRowsOf(Dataset<Row> input, Spec spec) {
    StructType schema = input.schema();
    FeatureReader reader = Plan.featureReader(schema, spec, schema.size());
    LabelReader labels = Plan.labelReader(schema, spec, schema.fieldIndex(spec.labelColumn()));
    Dataset<Row> projected = input.select(Stream.concat(Arrays.stream(schema.fieldNames()), spec.features().stream())
        .map(TrainingSet::column).toArray(Column[]::new));
    DataType[] types = Arrays.stream(schema.fields()).map(StructField::dataType).toArray(DataType[]::new);
    int width = spec.inFeatures();
    JavaRDD<InternalRow> invalid = projected.queryExecution().toRdd().toJavaRDD()
        .mapPartitions(rows -> new InvalidRowFilter(rows, reader, labels, types, width));
    StructType out = schema.add(ModuleTransformer.REASON_COLUMN, DataTypes.StringType, false);
    return ((SparkSession) input.sparkSession()).internalCreateDataFrame(invalid.rdd(), out, false);
  }

  /** Releases the cached blocks on every executor, waiting until they are gone. */
  @Override
  public void close() {
    blocks.unpersist(true);
  }

  private static Column column(String name) {
    return functions.col("`" + name.replace("`", "``") + "`");
  }

  /** The columns read and their readers, decided once on the driver. */
  private record Plan(List<String> keys, PartitionPlan partitionPlan, LabelReader labels) {
    static Plan of(StructType schema, Spec spec) {
      Set<String> available = new LinkedHashSet<>(Arrays.asList(schema.fieldNames()));
      for (String column : spec.features()) {
        if (!available.contains(column)) {
          throw new IllegalArgumentException("The feature column '" + column + "' does not exist. Available"
              + " columns: " + available);
        }
      }
      // A few other columns identify a row in an error, as in run's.
      List<String> keys = available.stream()
          .filter(c -> !spec.features().contains(c) && !c.equals(spec.labelColumn())).limit(KEY_COLUMNS).toList();
      StructType keySchema = new StructType(keys.stream().map(schema::apply).toArray(StructField[]::new));
      FeatureReader reader = featureReader(schema, spec, keys.size());
      LabelReader labels = labelReader(schema, spec, keys.size() + spec.features().size());
      PartitionPlan partitionPlan = new PartitionPlan(spec.inFeatures(), spec.outFeatures(), spec.blockRows(),
          Long.MAX_VALUE, keySchema, reader, OutputLayout.ARRAY, "output", "", spec.invalidRows(), null);
      return new Plan(keys, partitionPlan, labels);
    }

    static FeatureReader featureReader(StructType schema, Spec spec, int first) {
      FeatureReader reader = spec.featureColumn() != null ? FeatureReader.forColumn(schema, spec.featureColumn(), first)
          : FeatureReader.forScalarColumns(schema, spec.featureColumns(), first);
      reader.rejectNonFinite = true;
      return reader;
    }

    static LabelReader labelReader(StructType schema, Spec spec, int ordinal) {
      return spec.classIndices() ? LabelReader.classIndices(schema, spec.labelColumn(), ordinal, spec.outFeatures())
          : LabelReader.targets(schema, spec.labelColumn(), ordinal, spec.outFeatures(), spec.lossName());
    }
  }

  /**
   * Turns a partition's rows into training blocks of up to {@code blockRows} valid rows, applying the invalid-row
   * policy. Features are read into a small off-heap row buffer by the job's feature readers and copied into the
   * block's heap array; the buffer is freed when the input ends and, however the task ends, by a task-completion
   * listener.
   */
  private static final class BlockReader implements Iterator<TrainingBlock> {
    private final Iterator<InternalRow> input;
    private final PartitionPlan plan;
    private final FeatureReader reader;
    private final LabelReader labels;
    private final Spec spec;
    private final int partitionId;
    private final long scratch;
    private boolean freed;
    private long rowIndex;
    private TrainingBlock next;

    BlockReader(Iterator<InternalRow> input, PartitionPlan plan, LabelReader labels, Spec spec) {
      this.input = input;
      this.plan = plan;
      this.reader = plan.reader();
      this.labels = labels;
      this.spec = spec;
      TaskContext task = TaskContext.get();
      this.partitionId = task == null ? -1 : task.partitionId();
      this.scratch = Platform.allocateMemory(4L * Math.max(1, spec.inFeatures()));
      if (task != null) {
        task.addTaskCompletionListener((TaskCompletionListener) context -> free());
      }
    }

    @Override
    public boolean hasNext() {
      if (next == null) {
        next = readBlock();
      }
      return next != null;
    }

    @Override
    public TrainingBlock next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      TrainingBlock block = next;
      next = null;
      return block;
    }

    /** The next block, or null (and the buffer freed) once the input is done. */
    private TrainingBlock readBlock() {
      int in = spec.inFeatures();
      int width = labels.width();
      int capacity = spec.blockRows();
      float[] features = new float[capacity * in];
      float[] targets = labels.classIndices() ? null : new float[capacity * width];
      long[] classes = labels.classIndices() ? new long[capacity] : null;
      long[] invalid = new long[INVALID_REASONS.size()];
      int rows = 0;
      long read = 0;
      while (rows < capacity && input.hasNext()) {
        InternalRow row = input.next();
        read++;
        String problem = null;
        if (!reader.readChecked(row, scratch, in)) {
          invalid[reader.problem.ordinal()]++;
          problem = featureReason();
        } else if (labels.classIndices() ? !labels.readClass(row, classes, rows)
            : !labels.read(row, targets, rows * width)) {
          invalid[FeatureReader.Problem.values().length + labels.problem.ordinal()]++;
          problem = labels.reason();
        }
        if (problem != null) {
          if (spec.invalidRows() == InvalidRowPolicy.ERROR) {
            throw InvalidRowPolicy.rowError(plan.describeKey(row), rowIndex, partitionId, problem,
                "Filter out or repair such rows, or set invalid-rows to skip or quarantine.");
          }
        } else {
          Platform.copyMemory(null, scratch, features, Platform.FLOAT_ARRAY_OFFSET + 4L * rows * in, 4L * in);
          rows++;
        }
        rowIndex++;
      }
      if (read == 0) {
        free();
        return null;
      }
      return new TrainingBlock(rows, Arrays.copyOf(features, rows * in),
          targets == null ? null : Arrays.copyOf(targets, rows * width),
          classes == null ? null : Arrays.copyOf(classes, rows), read, invalid);
    }

    private String featureReason() {
      return switch (reader.problem) {
        case NULL_VECTOR -> reader.description + " is null";
        case NULL_ELEMENT -> reader.description + " holds a null value";
        case WRONG_WIDTH -> reader.description + " has " + reader.foundWidth + " values, expected in_features="
            + spec.inFeatures();
        case NON_FINITE -> reader.description + " holds NaN or infinity";
      };
    }

    private void free() {
      if (!freed) {
        freed = true;
        Platform.freeMemory(scratch);
      }
    }
  }
}
