package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link HybridIntDecoder} on what parquet-mr's own encoder writes: runs, bit-packed groups, and their mixes. */
class HybridIntDecoderTest {
  private static byte[] encode(int[] values, int bitWidth) throws IOException {
    try (RunLengthBitPackingHybridEncoder encoder = new RunLengthBitPackingHybridEncoder(bitWidth, 64, 1 << 20,
        HeapByteBufferAllocator.getInstance())) {
      for (int v : values) {
        encoder.writeInt(v);
      }
      return encoder.toBytes().toByteArray();
    }
  }

  /** Long runs, short runs and noise, as list levels and dictionary ids look. */
  private static int[] values(int n, int bitWidth, long seed) {
    Random random = new Random(seed);
    int max = bitWidth == 32 ? Integer.MAX_VALUE : (1 << bitWidth) - 1;
    int[] out = new int[n];
    int i = 0;
    while (i < n) {
      int length = Math.min(n - i, random.nextBoolean() ? 1 + random.nextInt(100) : 1 + random.nextInt(5));
      boolean run = random.nextBoolean();
      int value = max == 0 ? 0 : random.nextInt(max) + (random.nextBoolean() ? 1 : 0);
      for (int j = 0; j < length; j++) {
        out[i + j] = run || max == 0 ? value : random.nextInt(max) + (random.nextBoolean() ? 1 : 0);
      }
      i += length;
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 7, 8, 12, 17, 31})
  void decodesWhatParquetEncodes(int bitWidth) throws IOException {
    for (int n : new int[] {1, 7, 8, 9, 1000, 4099}) {
      int[] expected = values(n, bitWidth, n * 31L + bitWidth);
      byte[] bytes = encode(expected, bitWidth);
      int[] decoded = new int[n];
      new HybridIntDecoder(bytes, 0, bytes.length, bitWidth).decode(decoded, n);
      assertThat(decoded).as("n=%d", n).isEqualTo(expected);

      int[] zeros = new int[n];
      int count = new HybridIntDecoder(bytes, 0, bytes.length, bitWidth).zeroPositions(n, zeros);
      assertThat(Arrays.copyOf(zeros, count)).isEqualTo(IntStream.range(0, n).filter(i -> expected[i] == 0).toArray());

      boolean same = Arrays.stream(expected).allMatch(v -> v == expected[0]);
      assertThat(new HybridIntDecoder(bytes, 0, bytes.length, bitWidth).allEqual(n, expected[0])).isEqualTo(same);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {64, 3})
  void findsRowStartsInListLevels(int width) throws IOException {
    // Repetition levels of rows of `width` elements: 0 then width - 1 ones, which parquet-mr writes as a bit-packed
    // group and a run.
    int rows = 500;
    int[] levels = new int[rows * width];
    for (int i = 0; i < levels.length; i++) {
      levels[i] = i % width == 0 ? 0 : 1;
    }
    byte[] bytes = encode(levels, 1);
    int[] starts = new int[levels.length];
    assertThat(new HybridIntDecoder(bytes, 0, bytes.length, 1).zeroPositions(levels.length, starts)).isEqualTo(rows);
    assertThat(starts[rows - 1]).isEqualTo((rows - 1) * width);
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 33})
  void refusesImpossibleBitWidths(int bitWidth) {
    assertThatThrownBy(() -> new HybridIntDecoder(new byte[0], 0, 0, bitWidth))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid bit width: " + bitWidth + " (must be 0 to 32)");
  }
}
