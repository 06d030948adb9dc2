package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Linear;
import org.apache.spark.rdd.InputFileBlockHolder;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * What happens to a row whose features the module cannot take: a null vector, a null element, the wrong width, or
 * (when a {@code nan-guard} pre-hook asks to fail) a NaN or infinite value. It also words the error for such a row.
 */
public enum InvalidRowPolicy implements ConfigEnum {
  /** Fail the job, naming the row, the file and the reason (the default). */
  ERROR("error"),
  /** Leave the row out of the output and count it. */
  SKIP("skip"),
  /** Write the row with a null output. */
  NULL("keep"),
  /** Leave the row out of the output and write it, with a {@code reason} column, to the quarantine path. */
  QUARANTINE("skip");

  /**
   * The {@code handleInvalid} value of Spark ML that gives the same {@code transform} output: {@code keep} is a null
   * output, and a quarantine leaves the row out of the output as {@code skip} does.
   */
  final String handleInvalid;

  InvalidRowPolicy(String handleInvalid) {
    this.handleInvalid = handleInvalid;
  }

  /** The policy of Spark ML's {@code handleInvalid} value {@code error}, {@code skip} or {@code keep}. */
  static InvalidRowPolicy ofHandleInvalid(String value) {
    return value.equals(NULL.handleInvalid) ? NULL : ConfigEnum.parse(InvalidRowPolicy.class, value, "handleInvalid");
  }

  /**
   * Applies the policy to row {@code rowIndex} of partition {@code partitionId}, whose features {@code plan}'s reader
   * just refused: throws the row's error for {@code error}; otherwise says whether the row is written (with a null
   * output).
   */
  boolean keepsInvalidRow(PartitionPlan plan, InternalRow row, long rowIndex, int partitionId) {
    if (this == ERROR) {
      throw rowError(plan, plan.describeKey(row), rowIndex, partitionId);
    }
    return this == NULL;
  }

  private static InvalidRowException rowError(PartitionPlan plan, String rowKey, long rowIndex, int partitionId) {
    FeatureReader reader = plan.reader();
    String columns = reader.description;
    String reason = switch (reader.problem) {
      case NULL_VECTOR -> columns + " is null";
      case NULL_ELEMENT -> columns + " holds a null value";
      case WRONG_WIDTH -> columns + " has " + reader.foundWidth + " values, expected in_features=" + plan.inFeatures()
          + " (" + Linear.shapeMismatch(1, reader.foundWidth, plan.inFeatures(), plan.outFeatures()) + ")";
      case NON_FINITE -> columns + " holds NaN or infinity, which the nan-guard pre-hook refuses";
    };
    String advice = reader.problem == FeatureReader.Problem.WRONG_WIDTH
        ? "Check that the input matches the module, set module.in-features to the width of the data, or set"
            + " invalid-rows to skip, null or quarantine."
        : "Filter out or repair such rows, or set invalid-rows to skip, null or quarantine.";
    return rowError(rowKey, rowIndex, partitionId, reason, advice);
  }

  /**
   * The error for an invalid row under {@code error}: which row (its index in the partition, its key values, the
   * input file being read), what is wrong with it ({@code reason}) and what to do ({@code advice}).
   */
  static InvalidRowException rowError(String rowKey, long rowIndex, int partitionId, String reason, String advice) {
    String file = InputFileBlockHolder.getInputFilePath().toString();
    return new InvalidRowException("Invalid row " + rowIndex + " of partition " + partitionId
        + (rowKey.isEmpty() ? "" : " " + rowKey) + (file.isEmpty() ? "" : " in " + file) + ": " + reason + ". "
        + advice);
  }
}
