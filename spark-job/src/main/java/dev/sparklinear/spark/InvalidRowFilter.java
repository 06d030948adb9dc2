package dev.sparklinear.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.TaskCompletionListener;

/**
 * The invalid rows of a partition, for quarantine: each input row the module could not take, with every input column
 * and the reason. Uses the same feature readers as the job, so the two agree on which rows are invalid; runs no
 * module.
 */
final class InvalidRowFilter implements Iterator<InternalRow> {
  private final Iterator<InternalRow> input;
  private final FeatureReader reader;
  private final DataType[] types;
  private final int width;
  private final long scratch;
  /** The reader of the label at its ordinal among the input columns, for a fit's rows; null for a transform's. */
  private final LabelReader label;
  private final GenericInternalRow out;
  private InternalRow next;
  private boolean freed;

  /** Input rows carry the input columns at {@code 0 .. types.length-1} and the features after them. */
  InvalidRowFilter(Iterator<InternalRow> input, FeatureReader reader, DataType[] types, int width) {
    this(input, reader, null, types, width);
  }

  /** As the transform's filter, and a row whose {@code label} is refused is invalid too. */
  InvalidRowFilter(Iterator<InternalRow> input, FeatureReader reader, LabelReader label, DataType[] types,
      int width) {
    this.input = input;
    this.label = label;
    this.reader = reader;
    this.types = types;
    this.width = width;
    this.out = new GenericInternalRow(types.length + 1);
    // Where the readers write a row's features; only its validity matters here.
    this.scratch = Platform.allocateMemory(Math.max(1, 4L * width));
    TaskContext task = TaskContext.get();
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) context -> free());
    }
  }

  @Override
  public boolean hasNext() {
    while (next == null && input.hasNext()) {
      InternalRow row = input.next();
      String reason = !reader.readChecked(row, scratch, width) ? reader.problem.configValue()
          : label != null && !label.check(row) ? label.problem.configValue() : null;
      if (reason != null) {
        for (int i = 0; i < types.length; i++) {
          out.update(i, row.isNullAt(i) ? null : row.get(i, types[i]));
        }
        out.update(types.length, UTF8String.fromString(reason));
        next = out;
      }
    }
    if (next == null) {
      free();
      return false;
    }
    return true;
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    InternalRow row = next;
    next = null;
    return row;
  }

  private void free() {
    if (!freed) {
      freed = true;
      Platform.freeMemory(scratch);
    }
  }
}
