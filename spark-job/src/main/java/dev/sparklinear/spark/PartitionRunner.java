package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * Runs a module over one partition, block by block, and hands out the output rows. A {@link Source} takes each block
 * of input rows: it puts their features into the partition's feature block (in bulk, or a row at a time through
 * {@link #read}, which applies the invalid-row policy) and shows the rows in a batch whose first columns are the
 * passed-through ones and whose last are the module's output, read in place.
 *
 * <p>Everything is allocated once per partition and reused block after block. Rows it hands out are views, valid
 * until the next call to {@code next()}.
 */
final class PartitionRunner implements Iterator<InternalRow>, AutoCloseable {
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

  private final PartitionPlan plan;
  private final FeatureReader reader;
  private final int inFeatures;
  private final BlockRowMap rows;
  private final BlockColumns outputColumns;
  private final PartitionScope scope;
  private final Source source;
  /** Describes the row showing a feature row, for a nan-guard failure; made once, not per block. */
  private final IntFunction<String> rowKey = this::describeRowOf;

  /** The source's view of the current block's rows. */
  private ColumnarBatch view;
  private long firstRow;
  private int valid;
  private int dropped;
  private int nextRow;
  private int blockEnd;
  private boolean closed;

  private PartitionRunner(Module module, PartitionPlan plan, Function<PartitionRunner, Source> openSource) {
    this.plan = plan;
    this.reader = plan.reader();
    this.inFeatures = plan.inFeatures();
    this.rows = new BlockRowMap(plan.blockRows());
    this.outputColumns = BlockColumns.of(plan.layout(), plan.outputColumn(), plan.outFeatures(),
        plan.invalidRows() == InvalidRowPolicy.NULL, rows);
    this.scope = PartitionScope.forCurrentTask(module, plan, this);
    try {
      this.source = openSource.apply(this);
    } catch (RuntimeException | Error e) {
      scope.close();
      throw e;
    }
  }

  /** A runner for the current task over a partition of rows; it is closed however the task ends. */
  static PartitionRunner overRows(Iterator<InternalRow> input, Module module, PartitionPlan plan) {
    return new PartitionRunner(module, plan, runner -> new ArrowRowSource(input, plan, runner.scope.allocator(),
        runner.outputColumns.vectors()));
  }

  /** A runner for the current task over a partition of column batches, of which it reads columns {@code ordinals}. */
  static PartitionRunner overBatches(Iterator<ColumnarBatch> input, Module module, PartitionPlan plan,
      int[] ordinals) {
    return new PartitionRunner(module, plan, runner -> new ColumnBatchSource(input, plan, ordinals, runner.scope,
        runner.outputColumns.vectors()));
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
      outputColumns.show(scope.run(valid, firstRow, rowKey));
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

  /** Starts a block whose rows the source's view shows from row id {@code firstRowId} on. */
  void startBlock(int firstRowId) {
    rows.first = firstRowId;
    rows.mapped = false;
    valid = 0;
    dropped = 0;
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
    if (reader.readChecked(row, scope.featureAddress(valid), inFeatures)) {
      rows.blockRowOf[r] = valid++;
      return;
    }
    plan.countInvalid(reader.problem);
    boolean kept = plan.invalidRows().keepsInvalidRow(plan, row, firstRow + r, scope.partitionId());
    rows.blockRowOf[r] = kept ? BlockRowMap.NULL_OUTPUT : BlockRowMap.DROPPED;
    rows.mapped = true;
    dropped += kept ? 0 : 1;
  }

  /** The key of the row that shows feature row {@code blockRow}. */
  private String describeRowOf(int blockRow) {
    return plan.describeKey(view.getRow(rows.rowIdOf(blockRow)));
  }

  /** Frees every buffer of the partition and closes its allocator. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    nextRow = 0;
    blockEnd = 0;
    try {
      // Null when the constructor failed; the task-completion listener may still call this.
      if (source != null) {
        source.close();
      }
    } finally {
      scope.close();
    }
  }
}
