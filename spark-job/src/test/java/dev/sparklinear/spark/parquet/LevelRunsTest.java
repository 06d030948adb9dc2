package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.parquet.bytes.BytesUtils;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridDecoder;
import org.junit.jupiter.api.Test;

/** The levels, decoded by Parquet's own RLE/bit-packing hybrid decoder, are the ones added. */
class LevelRunsTest {

  /** The levels a page's bytes hold: the 4-byte length, then what Parquet's decoder reads from the rest. */
  private static List<Integer> decode(byte[] encoded, int maxLevel, int count) throws IOException {
    int length = ByteBuffer.wrap(encoded, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    assertThat(length).as("length prefix").isEqualTo(encoded.length - 4);
    RunLengthBitPackingHybridDecoder decoder = new RunLengthBitPackingHybridDecoder(
        BytesUtils.getWidthFromMaxInt(maxLevel), new ByteArrayInputStream(encoded, 4, length));
    List<Integer> levels = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      levels.add(decoder.readInt());
    }
    return levels;
  }

  private static List<Integer> repeat(int level, int count) {
    return Collections.nCopies(count, level);
  }

  @Test
  void aListColumnsRepetitionLevelsDecodeAsAdded() throws IOException {
    LevelRuns runs = new LevelRuns();
    List<Integer> expected = new ArrayList<>();
    for (int row = 0; row < 5; row++) { // rows of 16 elements: a first one, then 15 repeated
      runs.add(0, 1);
      runs.add(1, 15);
      expected.add(0);
      expected.addAll(repeat(1, 15));
    }

    assertThat(decode(runs.encode(1), 1, 80)).isEqualTo(expected);
  }

  @Test
  void listsAddedInBulkEncodeAsTheSameListsAddedOneByOne() {
    for (int width : new int[] {1, 2, 16}) {
      for (int before : new int[] {-1, 0, 1}) { // nothing, a run of 0s (a null row) or of 1s before the lists
        LevelRuns oneByOne = new LevelRuns();
        LevelRuns bulk = new LevelRuns();
        if (before >= 0) {
          oneByOne.add(before, 3);
          bulk.add(before, 3);
        }
        for (int list = 0; list < 37; list++) {
          oneByOne.add(0, 1);
          oneByOne.add(1, width - 1);
        }
        bulk.addLists(30, width);
        bulk.addLists(0, width);
        bulk.addLists(7, width);

        assertThat(bulk.encode(1)).as("width %d after %d", width, before).isEqualTo(oneByOne.encode(1));
      }
    }
  }

  @Test
  void adjacentRunsOfOneLevelMergeAndEmptyRunsAreDropped() {
    LevelRuns runs = new LevelRuns();
    runs.add(2, 3);
    runs.add(2, 0);
    runs.add(2, 4);
    runs.add(1, 0);

    // One run of 7 twos: a 4-byte length of 2, the header 7 << 1 = 14, the level in one byte.
    assertThat(runs.encode(2)).containsExactly(2, 0, 0, 0, 14, 2);
  }

  @Test
  void longRunsTakeMultiByteHeadersAndWideLevelsTwoBytes() throws IOException {
    LevelRuns runs = new LevelRuns();
    runs.add(0, 1000);
    runs.add(300, 70);
    runs.add(0, 1);

    byte[] encoded = runs.encode(511);

    // 1000 << 1 = 2000 = 0x7D0: ULEB128 0xD0 0x0F; 300 = 0x12C in two little-endian bytes (bit width 9).
    assertThat(Arrays.copyOfRange(encoded, 4, 10)).containsExactly(0xD0, 0x0F, 0x00, 0x00, 0x8C, 0x01);
    List<Integer> expected = new ArrayList<>(repeat(0, 1000));
    expected.addAll(repeat(300, 70));
    expected.add(0);
    assertThat(decode(encoded, 511, 1071)).isEqualTo(expected);
  }

  @Test
  void manyAlternatingRunsGrowTheirStoreAndDecodeInOrder() throws IOException {
    LevelRuns runs = new LevelRuns();
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) { // a nullable float column: present, absent, present twice, ...
      int level = i % 2 == 0 ? 1 : 0;
      runs.add(level, i % 3 + 1);
      expected.addAll(repeat(level, i % 3 + 1));
    }

    assertThat(decode(runs.encode(1), 1, expected.size())).isEqualTo(expected);
  }

  @Test
  void aRunNearHalfTheIntRangeIsSplitSoThatItsHeaderFitsAnInt() throws IOException {
    LevelRuns runs = new LevelRuns();
    int big = Integer.MAX_VALUE / 2 - 10;
    runs.add(1, big);
    runs.add(1, 20);

    byte[] encoded = runs.encode(1);
    ByteArrayInputStream in = new ByteArrayInputStream(encoded, 4, encoded.length - 4);
    assertThat(BytesUtils.readUnsignedVarInt(in)).isEqualTo(big << 1);
    assertThat(in.read()).isEqualTo(1);
    assertThat(BytesUtils.readUnsignedVarInt(in)).isEqualTo(20 << 1);
    assertThat(in.read()).isEqualTo(1);
    assertThat(in.available()).isZero();
  }

  @Test
  void clearStartsAnEmptyPage() throws IOException {
    LevelRuns runs = new LevelRuns();
    runs.add(1, 5);
    runs.clear();

    assertThat(runs.encode(1)).containsExactly(0, 0, 0, 0);
    runs.add(0, 2);
    assertThat(decode(runs.encode(1), 1, 2)).containsExactly(0, 0);
  }
}
