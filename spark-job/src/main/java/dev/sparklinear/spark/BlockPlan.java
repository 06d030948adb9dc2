package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Everything a partition needs to know, decided once on the driver: the widths, how many rows a block holds, which
 * columns are passed through (at ordinals {@code 0 .. k-1} of the rows handed in) and how the features that follow
 * them are read.
 */
record BlockPlan(
    int inFeatures,
    int outFeatures,
    int blockRows,
    long maxBlockBytes,
    StructType keptSchema,
    FeatureReader reader,
    DataType featureType,
    String featureDescription,
    OutputLayout layout,
    String outputColumn,
    String moduleRepr,
    BlockCounters counters,
    InvalidRowPolicy invalidRows)
    implements Serializable {

  /** Counts a block when the job asked for counts. */
  void count(int rowsRead, int rowsWritten) {
    if (counters != null) {
      counters.addBlock(rowsRead, rowsWritten);
    }
  }

  /** Counts a partition under its module's kernel when the job asked for counts. */
  void countPartition(Module module) {
    if (counters != null) {
      counters.addPartition(module);
    }
  }

  /**
   * Deals with a row the reader refused, by the invalid-rows policy: throws for {@code error}, else counts it by
   * reason. Returns whether the row still goes to the output (with a null result).
   */
  boolean keepInvalid(InternalRow row, long rowIndex, int partitionId, String file) {
    if (invalidRows == InvalidRowPolicy.ERROR) {
      throw rowError(row, rowIndex, partitionId, file);
    }
    if (counters != null) {
      counters.addInvalid(reader.problem);
    }
    return invalidRows == InvalidRowPolicy.NULL;
  }

  /** Bytes a row's features and outputs take in a block; passed-through columns add their own size. */
  long fixedRowBytes() {
    return 4L * (inFeatures + outFeatures);
  }

  /** The error for a row whose features the reader refused, with everything needed to find the row. */
  InvalidRowException rowError(InternalRow row, long rowIndex, int partitionId, String file) {
    String reason = switch (reader.problem) {
      case NULL_VECTOR -> featureDescription + " is null";
      case NULL_ELEMENT -> featureDescription + " holds a null value";
      case WRONG_WIDTH -> featureDescription + " has " + reader.foundWidth + " values, expected in_features="
          + inFeatures + " (" + Linear.shapeMismatch(1, reader.foundWidth, inFeatures, outFeatures) + ")";
      case NON_FINITE -> featureDescription + " holds NaN or infinity, which the nan-guard pre-hook refuses";
    };
    String advice = reader.problem == FeatureReader.Problem.WRONG_WIDTH
        ? "Check that the input matches the module, set module.in-features to the width of the data, or set"
            + " invalid-rows to skip, null or quarantine."
        : "Filter out or repair such rows, or set invalid-rows to skip, null or quarantine.";
    return new InvalidRowException("Invalid row " + rowIndex + " of partition " + partitionId + describeKey(row)
        + (file == null ? "" : " in " + file) + ": " + reason + ". " + advice);
  }

  /** The first passed-through values of {@code row}, as {@code " (id=7, name=x)"}: how a user finds the row. */
  String describeKey(InternalRow row) {
    List<String> parts = new ArrayList<>();
    StructField[] fields = keptSchema.fields();
    for (int i = 0; i < fields.length && parts.size() < 3; i++) {
      Object value = row.isNullAt(i) ? null : row.get(i, fields[i].dataType());
      String text = String.valueOf(value);
      parts.add(fields[i].name() + "=" + (text.length() > 40 ? text.substring(0, 40) + "..." : text));
    }
    return parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")";
  }
}
