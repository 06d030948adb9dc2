package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What every partition of a transform is told, decided once on the driver: the widths, how many rows (and bytes) a
 * block holds, which columns are passed through (at ordinals {@code 0 .. k-1} of the rows handed in) and how the
 * features that follow them are read, the output layout, the invalid-row policy, and the job's counters (or null).
 */
record PartitionPlan(
    int inFeatures,
    int outFeatures,
    int blockRows,
    long maxBlockBytes,
    StructType keptSchema,
    FeatureReader reader,
    OutputLayout layout,
    String outputColumn,
    String moduleRepr,
    InvalidRowPolicy invalidRows,
    BlockCounters counters)
    implements Serializable {

  void count(int rowsRead, int rowsWritten) {
    if (counters != null) {
      counters.addBlock(rowsRead, rowsWritten);
    }
  }

  /** Counts a partition under its module's kernel. */
  void countPartition(Module module) {
    if (counters != null) {
      counters.addPartition(module);
    }
  }

  void countInvalid(FeatureReader.Problem problem) {
    if (counters != null) {
      counters.addInvalid(problem);
    }
  }

  /** Bytes a row's features and outputs take in a block; passed-through columns add their own size. */
  long fixedRowBytes() {
    return 4L * (inFeatures + outFeatures);
  }

  /** The first passed-through values of {@code row}, as {@code (id=7, name=x)}: how a user finds the row. */
  String describeKey(InternalRow row) {
    List<String> parts = new ArrayList<>();
    StructField[] fields = keptSchema.fields();
    for (int i = 0; i < fields.length && parts.size() < 3; i++) {
      String text = String.valueOf(row.isNullAt(i) ? null : row.get(i, fields[i].dataType()));
      parts.add(fields[i].name() + "=" + (text.length() > 40 ? text.substring(0, 40) + "..." : text));
    }
    return parts.isEmpty() ? "" : "(" + String.join(", ", parts) + ")";
  }
}
