package dev.sparklinear.spark;

/**
 * What happens to a row whose features the module cannot take: a null vector, a null element, the wrong width, or
 * (when a {@code nan-guard} pre-hook asks to fail) a NaN or infinite value.
 */
public enum InvalidRowPolicy implements ConfigEnum {
  /** Fail the job, naming the row, the file and the reason (the default). */
  ERROR,
  /** Leave the row out of the output and count it. */
  SKIP,
  /** Write the row with a null output. */
  NULL,
  /** Leave the row out of the output and write it, with a {@code reason} column, to the quarantine path. */
  QUARANTINE;

  /** True when invalid rows do not reach the main output at all. */
  public boolean dropsRows() {
    return this == SKIP || this == QUARANTINE;
  }
}
