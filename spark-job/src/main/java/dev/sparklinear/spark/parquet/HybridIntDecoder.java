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
