package dev.sparklinear.spark.parquet;

/**
 * Decodes Parquet's RLE/bit-packed hybrid encoding of small integers (repetition and definition levels, dictionary
 * ids) a run at a time into an {@code int[]}, instead of parquet-mr's one call per value.
 */
final class HybridIntDecoder {
  private final byte[] data;
  private final int end;
  private final int bitWidth;
  private int pos;
  private int[] scratch = new int[64];

  /** Decodes {@code data[offset .. end)}, values of {@code bitWidth} bits (0 to 32). */
  HybridIntDecoder(byte[] data, int offset, int end, int bitWidth) {
    if (bitWidth < 0 || bitWidth > 32) {
      throw new IllegalArgumentException("Invalid bit width: " + bitWidth + " (must be 0 to 32)");
    }
    this.data = data;
    this.pos = offset;
    this.end = end;
    this.bitWidth = bitWidth;
  }

  /** Fills {@code out[0 .. count)}. */
  void decode(int[] out, int count) {
    int n = 0;
    while (n < count) {
      int header = readVarInt();
      int runs = header >>> 1;
      if ((header & 1) == 0) {
        int value = readLittleEndian((bitWidth + 7) / 8);
        int take = Math.min(runs, count - n);
        java.util.Arrays.fill(out, n, n + take, value);
        n += take;
      } else {
        // Groups of 8 values, bitWidth bytes each; the last group may be padded past the values wanted.
        int values = runs * 8;
        int take = Math.min(values, count - n);
        unpack(out, n, take);
        pos += runs * bitWidth;
        n += take;
      }
    }
  }

  /**
   * Writes to {@code out} the positions, among the first {@code n} values, of the zeros: where rows start, for
   * repetition levels. Returns how many. Works run by run, so a run of list elements costs one step, not one per value.
   */
  int zeroPositions(int n, int[] out) {
    int count = 0;
    int i = 0;
    while (i < n) {
      int header = readVarInt();
      int runs = header >>> 1;
      if ((header & 1) == 0) {
        int value = readLittleEndian((bitWidth + 7) / 8);
        int take = Math.min(runs, n - i);
        if (value == 0) {
          for (int j = 0; j < take; j++) {
            out[count++] = i + j;
          }
        }
        i += take;
      } else {
        int take = Math.min(runs * 8, n - i);
        if (scratch.length < take) {
          scratch = new int[Math.max(take, 2 * scratch.length)];
        }
        unpack(scratch, 0, take);
        for (int j = 0; j < take; j++) {
          if (scratch[j] == 0) {
            out[count++] = i + j;
          }
        }
        pos += runs * bitWidth;
        i += take;
      }
    }
    return count;
  }

  /** Whether the first {@code n} values all equal {@code value}; a page without nulls is one run of the top level. */
  boolean allEqual(int n, int value) {
    int i = 0;
    while (i < n) {
      int header = readVarInt();
      int runs = header >>> 1;
      if ((header & 1) == 0) {
        if (readLittleEndian((bitWidth + 7) / 8) != value) {
          return false;
        }
        i += Math.min(runs, n - i);
      } else {
        int take = Math.min(runs * 8, n - i);
        if (scratch.length < take) {
          scratch = new int[Math.max(take, 2 * scratch.length)];
        }
        unpack(scratch, 0, take);
        for (int j = 0; j < take; j++) {
          if (scratch[j] != value) {
            return false;
          }
        }
        pos += runs * bitWidth;
        i += take;
      }
    }
    return true;
  }

  /** Unpacks {@code count} values starting at {@code pos}, least significant bit first, without moving {@code pos}. */
  private void unpack(int[] out, int at, int count) {
    long mask = bitWidth == 32 ? 0xFFFFFFFFL : (1L << bitWidth) - 1;
    long buffer = 0;
    int bits = 0;
    int p = pos;
    for (int i = 0; i < count; i++) {
      while (bits < bitWidth) {
        buffer |= (long) (p < end ? data[p] & 0xFF : 0) << bits;
        p++;
        bits += 8;
      }
      out[at + i] = (int) (buffer & mask);
      buffer >>>= bitWidth;
      bits -= bitWidth;
    }
  }

  private int readVarInt() {
    int value = 0;
    int shift = 0;
    while (true) {
      if (pos >= end) {
        throw new IllegalStateException("Corrupt RLE/bit-packed data: ran past the end of the page");
      }
      int b = data[pos++] & 0xFF;
      value |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
      shift += 7;
    }
  }

  private int readLittleEndian(int bytes) {
    int value = 0;
    for (int i = 0; i < bytes; i++) {
      value |= (data[pos++] & 0xFF) << (8 * i);
    }
    return value;
  }
}
