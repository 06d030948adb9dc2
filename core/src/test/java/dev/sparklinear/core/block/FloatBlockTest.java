package dev.sparklinear.core.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.apache.arrow.memory.ArrowBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FloatBlockTest {
  private static final float[][] ROWS = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};

  private LeakCheckingAllocator allocator;

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void closeAllocator() {
    assertThat(allocator.getAllocatedMemory()).as("bytes left allocated by the test").isZero();
    allocator.close();
  }

  @Test
  void copyOfRowsRoundTripsThroughToRowsAndToArray() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      assertThat(block.rows()).isEqualTo(4);
      assertThat(block.cols()).isEqualTo(3);
      assertThat(block.toRows()).isDeepEqualTo(ROWS);
      assertThat(block.toArray()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      assertThat(block.get(2, 1)).isEqualTo(8f);
    }
  }

  @Test
  void copyOfFlatValuesIsRowMajor() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
      assertThat(block.row(0)).containsExactly(1, 2, 3);
      assertThat(block.row(1)).containsExactly(4, 5, 6);
      assertThat(block.get(1, 0)).isEqualTo(4f);
    }
  }

  @Test
  void copyOfCopiesTheArray() {
    float[] values = {1, 2, 3, 4};
    try (FloatBlock block = FloatBlock.copyOf(allocator, values, 2, 2)) {
      values[0] = 99;
      assertThat(block.get(0, 0)).isEqualTo(1f);
    }
  }

  @Test
  void storesValuesAsLittleEndianFloat32InRowMajorOrder() {
    // The layout is the Arrow FixedSizeList<Float4> data buffer: value (r, c) at byte (r * cols + c) * 4.
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      ArrowBuf buffer = block.buffer();
      assertThat(buffer.getFloat((1L * 3 + 2) * 4)).isEqualTo(6f);
      assertThat(buffer.getInt(0)).isEqualTo(Float.floatToIntBits(1f));
      assertThat(buffer.getByte(0)).isEqualTo((byte) (Float.floatToIntBits(1f) & 0xff));
    }
  }

  @Test
  void ofRowMakesOneRowBlock() {
    try (FloatBlock block = FloatBlock.ofRow(allocator, 1, 2, 3, 4)) {
      assertThat(block.rows()).isEqualTo(1);
      assertThat(block.cols()).isEqualTo(4);
      assertThat(block.row(0)).containsExactly(1, 2, 3, 4);
    }
  }

  @Test
  void allocateIsZeroFilled() {
    // Fill and free a buffer first so that the next allocation is likely to reuse dirty memory.
    try (FloatBlock dirty = FloatBlock.allocateUninitialized(allocator, 16, 16)) {
      dirty.writeRows(0, 16, filled(256, 7f), 0);
    }
    try (FloatBlock block = FloatBlock.allocate(allocator, 16, 16)) {
      assertThat(block.toArray()).containsOnly(0f);
    }
  }

  @Test
  void readRowsAndWriteRowsCopyRangesAtOffsets() {
    try (FloatBlock block = FloatBlock.allocate(allocator, 4, 3)) {
      float[] src = {-1, -1, 10, 11, 12, 13, 14, 15};
      block.writeRows(1, 2, src, 2);
      assertThat(block.toArray()).containsExactly(0, 0, 0, 10, 11, 12, 13, 14, 15, 0, 0, 0);

      float[] dst = {-7, -7, -7, -7, -7, -7, -7, -7};
      block.readRows(1, 2, dst, 1);
      assertThat(dst).containsExactly(-7, 10, 11, 12, 13, 14, 15, -7);
    }
  }

  @Test
  void setChangesOneValue() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      block.set(3, 2, -0.5f);
      assertThat(block.get(3, 2)).isEqualTo(-0.5f);
      assertThat(block.row(3)).containsExactly(10, 11, -0.5f);
      assertThat(block.row(2)).containsExactly(7, 8, 9);
    }
  }

  @Test
  void blockMemoryIsAccountedToItsAllocator() {
    try (FloatBlock block = FloatBlock.allocate(allocator, 5, 7)) {
      assertThat(block.allocator()).isSameAs(allocator);
      assertThat(allocator.getAllocatedMemory()).isGreaterThanOrEqualTo(5 * 7 * 4);
    }
    assertThat(allocator.getAllocatedMemory()).isZero();
  }

  @Test
  void emptyBlockIsAccountedToTheAllocatorItCameFrom() {
    // Arrow hands out one shared empty buffer for zero bytes, whose own allocator is none of the caller's.
    try (FloatBlock noRows = FloatBlock.allocate(allocator, 0, 3);
        FloatBlock copied = FloatBlock.copyOf(allocator, new float[0][]);
        FloatBlock uninitialized = FloatBlock.allocateUninitialized(allocator, 0, 0)) {
      assertThat(noRows.allocator()).isSameAs(allocator);
      assertThat(copied.allocator()).isSameAs(allocator);
      assertThat(uninitialized.allocator()).isSameAs(allocator);
    }
  }

  @Test
  void emptyBlocksHaveNoValues() {
    try (FloatBlock noRows = FloatBlock.allocate(allocator, 0, 3);
        FloatBlock noCols = FloatBlock.copyOf(allocator, new float[0], 2, 0)) {
      assertThat(noRows.rows()).isZero();
      assertThat(noRows.toArray()).isEmpty();
      assertThat(noRows.toRows()).isEmpty();
      assertThat(noCols.row(1)).isEmpty();
      assertThat(noCols.toArray()).isEmpty();
    }
  }

  @Test
  void wrapSharesMemoryWithoutCopying() {
    ArrowBuf buffer = allocator.buffer(6 * 4);
    try {
      for (int i = 0; i < 6; i++) {
        buffer.setFloat(i * 4L, i);
      }
      long before = allocator.getAllocatedMemory();
      try (FloatBlock block = FloatBlock.wrap(buffer, 2, 3)) {
        assertThat(allocator.getAllocatedMemory()).as("no new memory for a wrapped block").isEqualTo(before);
        assertThat(block.buffer().memoryAddress()).isEqualTo(buffer.memoryAddress());
        assertThat(block.toArray()).containsExactly(0, 1, 2, 3, 4, 5);

        buffer.setFloat(4 * 4L, 40f);
        assertThat(block.get(1, 1)).as("a write to the buffer is seen by the block").isEqualTo(40f);
        block.set(0, 2, 20f);
        assertThat(buffer.getFloat(2 * 4L)).as("a write to the block is seen in the buffer").isEqualTo(20f);
      }
      assertThat(buffer.refCnt()).as("closing the block gives back only its own reference").isEqualTo(1);
    } finally {
      buffer.close();
    }
  }

  @Test
  void wrapKeepsBufferAliveAfterOriginalReferenceIsReleased() {
    ArrowBuf buffer = allocator.buffer(4 * 4);
    for (int i = 0; i < 4; i++) {
      buffer.setFloat(i * 4L, i + 1);
    }
    try (FloatBlock block = FloatBlock.wrap(buffer, 2, 2)) {
      buffer.close();
      assertThat(allocator.getAllocatedMemory()).as("the block's reference keeps the memory").isPositive();
      assertThat(block.toArray()).containsExactly(1, 2, 3, 4);
    }
    assertThat(allocator.getAllocatedMemory()).isZero();
  }

  @Test
  void wrapUsesOnlyTheFirstRowsTimesColsValues() {
    ArrowBuf buffer = allocator.buffer(10 * 4);
    try {
      for (int i = 0; i < 10; i++) {
        buffer.setFloat(i * 4L, i);
      }
      try (FloatBlock block = FloatBlock.wrap(buffer, 2, 2)) {
        assertThat(block.toArray()).containsExactly(0, 1, 2, 3);
      }
    } finally {
      buffer.close();
    }
  }

  @Test
  void wrapRejectsTooSmallBuffer() {
    ArrowBuf buffer = allocator.buffer(8);
    try {
      assertThatThrownBy(() -> FloatBlock.wrap(buffer, 2, 3))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot wrap a buffer of " + buffer.capacity() + " bytes as a 2x3 block (24 bytes needed)");
      assertThat(buffer.refCnt()).as("a rejected wrap takes no reference").isEqualTo(1);
    } finally {
      buffer.close();
    }
  }

  @Test
  void closingTwiceIsHarmless() {
    FloatBlock block = FloatBlock.copyOf(allocator, ROWS);
    block.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    block.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
  }

  @Test
  void closingWrappedBlockTwiceReleasesOnlyOneReference() {
    ArrowBuf buffer = allocator.buffer(4 * 4);
    try {
      FloatBlock block = FloatBlock.wrap(buffer, 2, 2);
      assertThat(buffer.refCnt()).isEqualTo(2);
      block.close();
      block.close();
      assertThat(buffer.refCnt()).as("the owner's reference is untouched").isEqualTo(1);
    } finally {
      buffer.close();
    }
  }

  @Test
  void getAndSetRejectIndexesOutOfRange() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      assertThatThrownBy(() -> block.get(4, 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Index [4, 0] is out of bounds for a 4x3 block");
      assertThatThrownBy(() -> block.get(0, 3))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Index [0, 3] is out of bounds for a 4x3 block");
      assertThatThrownBy(() -> block.get(-1, 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Index [-1, 0] is out of bounds for a 4x3 block");
      assertThatThrownBy(() -> block.set(1, -1, 0f))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Index [1, -1] is out of bounds for a 4x3 block");
      assertThat(block.toRows()).as("a rejected set changes nothing").isDeepEqualTo(ROWS);
    }
  }

  @Test
  void rowReadsAndWritesRejectRangesOutOfBounds() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS)) {
      assertThatThrownBy(() -> block.row(4))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Rows [4, 5) are out of bounds for a block of 4 rows");
      assertThatThrownBy(() -> block.readRows(3, 2, new float[6], 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Rows [3, 5) are out of bounds for a block of 4 rows");
      assertThatThrownBy(() -> block.writeRows(-1, 1, new float[3], 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Rows [-1, 0) are out of bounds for a block of 4 rows");
      assertThatThrownBy(() -> block.readRows(0, -1, new float[3], 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("Rows [0, -1) are out of bounds for a block of 4 rows");
    }
  }

  @Test
  void rejectsNegativeSizes() {
    assertThatThrownBy(() -> FloatBlock.allocate(allocator, -1, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid block size: -1x3 (must be >= 0)");
    assertThatThrownBy(() -> FloatBlock.allocateUninitialized(allocator, 2, -5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid block size: 2x-5 (must be >= 0)");
    assertThatThrownBy(() -> FloatBlock.copyOf(allocator, new float[0], -2, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid block size: -2x0 (must be >= 0)");
  }

  @Test
  void rejectsBlocksOfMoreThanIntMaxValues() {
    assertThatThrownBy(() -> FloatBlock.allocate(allocator, 65536, 32768))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid block size: 65536x32768 (more than 2147483647 values)");
  }

  @Test
  void copyOfRejectsWrongNumberOfValues() {
    assertThatThrownBy(() -> FloatBlock.copyOf(allocator, new float[5], 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot make a 2x3 block from 5 values");
    assertThat(allocator.getAllocatedMemory()).isZero();
  }

  @Test
  void copyOfRejectsRowsOfDifferentLengths() {
    assertThatThrownBy(() -> FloatBlock.copyOf(allocator, new float[][] {{1, 2}, {3, 4}, {5}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot make a block from rows of different lengths: row 2 has 1 values, row 0 has 2");
  }

  @Test
  void toStringShowsSizeAndFirstRows() {
    try (FloatBlock block = FloatBlock.copyOf(allocator, ROWS);
        FloatBlock small = FloatBlock.ofRow(allocator, 1, 2)) {
      assertThat(block).hasToString(
          "FloatBlock(4x3: [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], ...)");
      assertThat(small).hasToString("FloatBlock(1x2: [1.0, 2.0])");
    }
  }

  private static float[] filled(int count, float value) {
    float[] values = new float[count];
    java.util.Arrays.fill(values, value);
    return values;
  }
}
