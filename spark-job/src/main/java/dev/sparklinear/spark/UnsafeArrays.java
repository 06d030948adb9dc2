package dev.sparklinear.spark;

import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.unsafe.bitset.BitSetMethods;

/**
 * The layout of Spark's {@link UnsafeArrayData}: 8 bytes of element count, a null bitset of one bit per element
 * rounded up to 8-byte words, then the fixed-width values. Knowing it lets the job copy a feature vector with one
 * {@code copyMemory} instead of an element-by-element loop (the feature readers, and the columnar Parquet writer for
 * float arrays).
 */
public final class UnsafeArrays {
  private UnsafeArrays() {}

  /** Where the values start. */
  public static long dataOffset(UnsafeArrayData array) {
    return array.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(array.numElements());
  }

  /** True when any element is null; reads the bitset a word at a time. */
  static boolean hasNull(UnsafeArrayData array) {
    return BitSetMethods.anySet(array.getBaseObject(), array.getBaseOffset() + 8, (array.numElements() + 63L) / 64);
  }
}
