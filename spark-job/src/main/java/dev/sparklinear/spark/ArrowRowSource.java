package dev.sparklinear.spark;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * A partition that arrives as Spark rows: a block takes rows until it holds {@code blockRows} of them or its bytes
 * reach the block's limit. Each row's features go straight into the feature block, and its passed-through columns
 * into one Arrow root, reused for every block of the partition, that the output rows show.
 */
final class ArrowRowSource implements PartitionRunner.Source {
  private final Iterator<InternalRow> input;
  private final PartitionPlan plan;
  private final VectorSchemaRoot root;
  private final ArrowWriter writer;
  private final ColumnarBatch view;

  /** Allocates the root from {@code allocator}; {@link #close()} frees it. */
  ArrowRowSource(Iterator<InternalRow> input, PartitionPlan plan, BufferAllocator allocator,
      List<? extends ColumnVector> outputColumns) {
    this.input = input;
    this.plan = plan;
    this.root = VectorSchemaRoot.create(ArrowUtils.toArrowSchema(plan.keptSchema(), "UTC", true, false), allocator);
    try {
      this.writer = ArrowWriter.create(root);
    } catch (RuntimeException | Error e) {
      root.close();
      throw e;
    }
    this.view = new ColumnarBatch(Stream.concat(root.getFieldVectors().stream().map(ArrowColumnVector::new),
        outputColumns.stream()).toArray(ColumnVector[]::new));
  }

  @Override
  public int nextBlock(PartitionRunner runner) {
    writer.reset();
    runner.startBlock(0);
    long rowBytes = plan.fixedRowBytes();
    long bytes = 0;
    int count = 0;
    while (count < plan.blockRows() && bytes < plan.maxBlockBytes() && input.hasNext()) {
      InternalRow row = input.next();
      runner.read(row, count++);
      writer.write(row);
      bytes += rowBytes + (row instanceof UnsafeRow unsafe ? unsafe.getSizeInBytes() : 0);
    }
    writer.finish();
    view.setNumRows(count);
    return count;
  }

  @Override
  public ColumnarBatch view() {
    return view;
  }

  @Override
  public void close() {
    root.close();
  }
}
