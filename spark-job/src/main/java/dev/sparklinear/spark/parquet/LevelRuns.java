package dev.sparklinear.spark.parquet;

import java.util.Arrays;

/**
 * The repetition or definition levels of one data page, kept as runs and written as the RLE runs of Parquet's
 * RLE/bit-packing hybrid encoding, with the 4-byte length prefix of a version 1 data page.
 *
 * <p>Computed vectors have very regular levels (a whole page of "present", or "first element, then 15 more" per row),
 * which runs describe in a few bytes without one encoder call per value. Every reader decodes RLE runs: they are half
 * of the hybrid encoding, which leaves the choice between runs and bit-packed groups to the writer.
 */
final class LevelRuns {
  private int[] levels = new int[16];
  private int[] counts = new int[16];
  private int size;

  /** Appends {@code count} entries of {@code level}. */
  void add(int level, int count) {
    if (count == 0) {
      return;
    }
    if (size > 0 && levels[size - 1] == level && counts[size - 1] <= Integer.MAX_VALUE / 2 - count) {
      counts[size - 1] += count;
      return;
    }
    if (size == levels.length) {
      levels = Arrays.copyOf(levels, size * 2);
      counts = Arrays.copyOf(counts, size * 2);
    }
    levels[size] = level;
    counts[size] = count;
    size++;
  }

  /**
   * Appends the repetition levels of {@code lists} lists of {@code width} values each (at least one): a 0 then
   * {@code width - 1} ones per list, the runs that as many {@code add(0, 1); add(1, width - 1)} calls would leave.
   */
  void addLists(int lists, int width) {
    if (lists == 0) {
      return;
    }
    if (width == 1) {
      add(0, lists);
      return;
    }
    add(0, 1);
    add(1, width - 1);
    // The rest alternate, a run each: a 0 never joins the ones before it, nor ones the 0 before them.
    int more = 2 * (lists - 1);
    if (size + more > levels.length) {
      int capacity = Math.max(size + more, size * 2);
      levels = Arrays.copyOf(levels, capacity);
      counts = Arrays.copyOf(counts, capacity);
    }
    for (int i = 1; i < lists; i++) {
      levels[size] = 0;
      counts[size] = 1;
      levels[size + 1] = 1;
      counts[size + 1] = width - 1;
      size += 2;
    }
  }

  void clear() {
    size = 0;
  }

  /**
   * The runs encoded for levels up to {@code maxLevel}, after a little-endian 4-byte length: each run is its count
   * shifted left by one (the low bit 0 marks a run) as an unsigned varint, then the level in
   * {@code ceil(bitWidth / 8)} little-endian bytes.
   */
  byte[] encode(int maxLevel) {
    int bitWidth = 32 - Integer.numberOfLeadingZeros(maxLevel);
    int valueBytes = (bitWidth + 7) / 8;
    byte[] bytes = new byte[4 + size * (5 + valueBytes)];
    int at = 4;
    for (int i = 0; i < size; i++) {
      int header = counts[i] << 1;
      while ((header & ~0x7F) != 0) {
        bytes[at++] = (byte) ((header & 0x7F) | 0x80);
        header >>>= 7;
      }
      bytes[at++] = (byte) header;
      for (int b = 0; b < valueBytes; b++) {
        bytes[at++] = (byte) (levels[i] >>> (8 * b));
      }
    }
    int length = at - 4;
    for (int b = 0; b < 4; b++) {
      bytes[b] = (byte) (length >>> (8 * b));
    }
    return Arrays.copyOf(bytes, at);
  }
}
