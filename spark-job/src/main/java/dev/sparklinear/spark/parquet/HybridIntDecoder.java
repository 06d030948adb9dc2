package dev.sparklinear.spark.parquet;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Decodes Parquet's RLE/bit-packed hybrid encoding of small integers (repetition and definition levels, dictionary
 * ids) a run at a time into an {@code int[]}, instead of parquet-mr's one call per value.
 */
final class HybridIntDecoder {
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

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
        Arrays.fill(out, n, n + take, value);
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
        count = bitWidth == 1 ? zeroBits(take, i, out, count) : zeroValues(take, i, out, count);
        pos += runs * bitWidth;
        i += take;
      }
    }
    return count;
  }

  /**
   * Repetition levels of flat lists are one bit each, and some writers (DuckDB) bit-pack all of them: a word of all
   * ones (64 list elements that start no row) is skipped at once, and only the zero bits are visited.
   */
  private int zeroBits(int take, int first, int[] out, int count) {
    int bytes = (take + 7) / 8;
    int b = 0;
    for (; b + 8 <= bytes; b += 8) {
      long zeros = ~(long) LONG_LE.get(data, pos + b);
      while (zeros != 0) {
        int at = 8 * b + Long.numberOfTrailingZeros(zeros);
        if (at < take) {
          out[count++] = first + at;
        }
        zeros &= zeros - 1;
      }
    }
    for (; b < bytes; b++) {
      int zeros = ~data[pos + b] & 0xFF;
      while (zeros != 0) {
        int at = 8 * b + Integer.numberOfTrailingZeros(zeros);
        if (at < take) {
          out[count++] = first + at;
        }
        zeros &= zeros - 1;
      }
    }
    return count;
  }

  private int zeroValues(int take, int first, int[] out, int count) {
    if (scratch.length < take) {
      scratch = new int[Math.max(take, 2 * scratch.length)];
    }
    unpack(scratch, 0, take);
    for (int j = 0; j < take; j++) {
      if (scratch[j] == 0) {
        out[count++] = first + j;
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
        // Whole groups of 8 are compared as packed bytes with 8 packed copies of the value; only a last, partial
        // group is unpacked.
        int take = Math.min(runs * 8, n - i);
        int whole = take / 8;
        byte[] group = packedGroup(value);
        for (int g = 0, at = pos; g < whole; g++, at += bitWidth) {
          if (!Arrays.equals(data, at, at + bitWidth, group, 0, bitWidth)) {
            return false;
          }
        }
        int rest = take - 8 * whole;
        if (rest > 0) {
          int[] tail = new int[8];
          int saved = pos;
          pos += whole * bitWidth;
          unpack(tail, 0, rest);
          pos = saved;
          for (int j = 0; j < rest; j++) {
            if (tail[j] != value) {
              return false;
            }
          }
        }
        pos += runs * bitWidth;
        i += take;
      }
    }
    return true;
  }

  /** Eight copies of {@code value}, bit-packed: {@code bitWidth} bytes. */
  private byte[] packedGroup(int value) {
    byte[] group = new byte[bitWidth];
    for (int k = 0; k < 8 * bitWidth; k++) {
      int bit = (value >>> (k % bitWidth)) & 1;
      group[k / 8] |= (byte) (bit << (k % 8));
    }
    return group;
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
