package dev.sparklinear.spark;

import dev.sparklinear.core.block.BlockPool;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.hooks.NonFiniteValueException;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.spark.parquet.FloatListRuns;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Runs a module over one partition, block by block, and hands out the output rows. A {@link Source} takes each block
 * of input rows: it puts their features into the partition's feature block (in bulk, or a row at a time through
 * {@link #read}, which applies the invalid-row policy) and shows the rows in a batch whose first columns are the
 * passed-through ones and whose last are the module's output, read in place.
 *
 * <p>Everything is allocated once per partition, from a named child allocator, and reused block after block: the
 * module's intermediate and output blocks come from the partition's {@link BlockPool}, so after the first block no
 * Arrow allocation happens per block. Closing the runner frees it all, which it does when the input ends and a task-completion listener does however the task
 * ends. Rows it hands out are views, valid until the next call to {@code next()}.
 *
 * <p>With the {@code array} layout the rows come in {@linkplain FloatListRuns runs}: the output lists of a block's rows
 * that have one, up to the next row without, are consecutive rows of the output block, which the columnar Parquet
 * writer copies in bulk.
 */
final class PartitionRunner implements FloatListRuns, AutoCloseable {
  /** Where a partition's rows come from: Spark rows copied into Arrow, or column batches read in place. */
  interface Source extends AutoCloseable {
    /**
     * Takes the next block of input rows: calls {@link #startBlock}, then puts the rows' features into the feature
     * block, in bulk ({@link #readInBulk}) or row by row ({@link #read}). Returns the rows taken, 0 once the input
     * is done.
     */
    int nextBlock(PartitionRunner runner);

    /** The rows of the current block, at row ids {@code first .. first + rows - 1} of {@link BlockRowMap}. */
    ColumnarBatch view();

    @Override
    void close();
  }

  private final Module module;
  private final PartitionPlan plan;
  private final FeatureReader reader;
  private final int inFeatures;
  private final int partitionId;
  private final BufferAllocator allocator;
  private final BlockPool pool;
  private final FloatBlock features;
  private final long featuresAddress;
  private final BlockRowMap rows;
  private final BlockColumns outputColumns;
  /** The output list column's ordinal in the rows, or -1 when the layout is not {@code array}. */
  private final int listOrdinal;
  private final Source source;

  /** The source's view of the current block's rows. */
  private ColumnarBatch view;
  private FloatBlock output;
  private long blockIndex;
  private long firstRow;
  private int valid;
  private int dropped;
  private int nextRow;
  private int blockEnd;
  private boolean closed;

  private PartitionRunner(Module module, PartitionPlan plan, Function<PartitionRunner, Source> openSource) {
    this.module = module;
    this.plan = plan;
    this.reader = plan.reader();
    this.inFeatures = plan.inFeatures();
    this.rows = new BlockRowMap(plan.blockRows());
    this.outputColumns = BlockColumns.of(plan.layout(), plan.outputColumn(), plan.outFeatures(),
        plan.invalidRows() == InvalidRowPolicy.NULL, rows);
    // Every source shows the kept columns first, then the output columns.
    this.listOrdinal = plan.layout() == OutputLayout.ARRAY ? plan.keptSchema().size() : -1;
    TaskContext task = TaskContext.get();
    this.partitionId = task == null ? -1 : task.partitionId();
    this.allocator = ArrowUtils.rootAllocator().newChildAllocator("spark-linear partition " + partitionId + " task "
        + (task == null ? -1 : task.taskAttemptId()), 0, Long.MAX_VALUE);
    this.pool = new BlockPool(allocator);
    try {
      this.features = FloatBlock.allocate(allocator, plan.blockRows(), inFeatures);
      this.featuresAddress = features.buffer().memoryAddress();
      this.source = openSource.apply(this);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) context -> close());
    }
  }

  /** A runner for the current task over a partition of rows. */
  static PartitionRunner overRows(Iterator<InternalRow> input, Module module, PartitionPlan plan) {
    return new PartitionRunner(module, plan, runner -> new ArrowRowSource(input, plan, runner.allocator,
        runner.outputColumns.vectors()));
  }

  /** A runner for the current task over a partition of column batches, of which it reads columns {@code ordinals}. */
  static PartitionRunner overBatches(Iterator<ColumnarBatch> input, Module module, PartitionPlan plan,
      int[] ordinals) {
    return new PartitionRunner(module, plan, runner -> new ColumnBatchSource(input, plan, ordinals,
        runner.outputColumns.vectors()));
  }

  /**
   * A runner for the current task over a partition of a Parquet scan's batches of kept columns, columns
   * {@code keptOrdinals}, whose feature column {@code column} it reads from the files itself.
   */
  static PartitionRunner overParquetFeatures(Iterator<ColumnarBatch> input, Module module, PartitionPlan plan,
      int[] keptOrdinals, String column, Configuration conf) {
    return new PartitionRunner(module, plan, runner -> new ParquetFeatureSource(input, plan, keptOrdinals, column,
        conf, runner.outputColumns.vectors()));
  }

  @Override
  public boolean hasNext() {
    while (true) {
      while (nextRow < blockEnd) {
        if (!rows.isDropped(nextRow)) {
          return true;
        }
        nextRow++;
      }
      if (closed) {
        return false;
      }
      int count = source.nextBlock(this);
      if (count == 0) {
        close();
        return false;
      }
      rows.rows = count;
      view = source.view();
      outputColumns.show(run());
      plan.count(count, count - dropped);
      firstRow += count;
      nextRow = rows.first;
      blockEnd = rows.first + count;
    }
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return view.getRow(nextRow++);
  }

  @Override
  public int listOrdinal() {
    return listOrdinal;
  }

  /**
   * The rows from the next one on whose outputs are consecutive rows of the output block: the rest of the block, or
   * once an invalid row has turned the row map on, up to the next row with a null output (or one skipped).
   */
  @Override
  public int runLength() {
    if (listOrdinal < 0 || nextRow >= blockEnd) {
      return 0;
    }
    if (!rows.mapped) {
      return blockEnd - nextRow;
    }
    int first = rows.blockRow(nextRow);
    if (first < 0) {
      return 0;
    }
    int end = nextRow + 1;
    while (end < blockEnd && rows.blockRow(end) == first + (end - nextRow)) {
      end++;
    }
    return end - nextRow;
  }

  @Override
  public FloatBlock runBlock() {
    return output;
  }

  @Override
  public int runFirstRow() {
    return rows.blockRow(nextRow);
  }

  /** Starts a block whose rows the source's view shows from row id {@code firstRowId} on. */
  void startBlock(int firstRowId) {
    rows.first = firstRowId;
    rows.mapped = false;
    valid = 0;
    dropped = 0;
  }

  /** Where feature row {@code row} of the block goes. */
  long featureAddress(int row) {
    return featuresAddress + (long) row * inFeatures * FloatBlock.BYTES;
  }

  /** The feature block, for a source that writes whole rows of it in bulk; then it calls {@link #readInBulk}. */
  FloatBlock features() {
    return features;
  }

  /** The source has put the features of all {@code count} rows of the block into the feature block. */
  void readInBulk(int count) {
    valid = count;
  }

  /**
   * Reads the features of {@code row}, row {@code r} of the block, into the next free row of the feature block, or
   * applies the invalid-row policy when the reader refuses them.
   */
  void read(InternalRow row, int r) {
    if (reader.readChecked(row, featureAddress(valid), inFeatures)) {
      rows.blockRowOf[r] = valid++;
      return;
    }
    plan.countInvalid(reader.problem);
    boolean kept = plan.invalidRows().keepsInvalidRow(plan, row, firstRow + r, partitionId);
    rows.blockRowOf[r] = kept ? BlockRowMap.NULL_OUTPUT : BlockRowMap.DROPPED;
    rows.mapped = true;
    dropped += kept ? 0 : 1;
  }

  /**
   * Runs the module on the block's valid feature rows. A nan-guard failure is given the key of the offending row; an
   * output of the wrong shape is refused.
   */
  private FloatBlock run() {
    releaseOutput();
    CallContext context = CallContext.of(valid, partitionId, blockIndex++, firstRow, pool);
    try (FloatBlock x = FloatBlock.wrap(features.buffer(), valid, inFeatures)) {
      output = module.call(x, context);
    } catch (NonFiniteValueException e) {
      throw e.withRowKey(plan.describeKey(view.getRow(rows.rowIdOf(e.rowInBlock()))));
    }
    if (output.rows() != valid || output.cols() != plan.outFeatures()) {
      String shape = output.rows() + "x" + output.cols();
      releaseOutput();
      throw new IllegalStateException("Module " + plan.moduleRepr() + " returned a " + shape + " block for a block of "
          + valid + " rows; expected " + valid + "x" + plan.outFeatures() + " (does a hook change the output width?)");
    }
    return output;
  }

  private void releaseOutput() {
    if (output != null) {
      output.close();
      output = null;
    }
  }

  /** Frees every buffer of the partition and closes its allocator; a leak makes the allocator throw. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    nextRow = 0;
    blockEnd = 0;
    try (allocator) {
      releaseOutput();
      pool.close();
      // Null when the constructor failed part way.
      if (source != null) {
        source.close();
      }
      if (features != null) {
        features.close();
      }
    }
  }
}
