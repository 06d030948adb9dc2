package dev.sparklinear.core.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.AllocationListener;
import org.junit.jupiter.api.Test;

/** {@link BlockPool}: what it reuses, what it lets go of, and that it leaves nothing allocated once closed. */
class BlockPoolTest {
  private final AtomicInteger allocations = new AtomicInteger();
  private final AllocationListener counting = new AllocationListener() {
    @Override
    public void onAllocation(long size) {
      allocations.incrementAndGet();
    }
  };

  @Test
  void aClosedBlocksBufferIsReusedByTheNextTake() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator(counting);
        BlockPool pool = new BlockPool(allocator)) {
      long address;
      try (FloatBlock first = pool.take(100, 8)) {
        address = first.buffer().memoryAddress();
        first.set(99, 7, 3f);
        assertThat(first.get(99, 7)).isEqualTo(3f);
      }
      for (int i = 0; i < 10; i++) {
        try (FloatBlock next = pool.take(100 - i, 8)) {
          assertThat(next.buffer().memoryAddress()).isEqualTo(address);
          assertThat(next.rows()).isEqualTo(100 - i);
          assertThat(next.allocator()).isSameAs(allocator);
        }
      }
      assertThat(allocations.get()).isEqualTo(1);
      assertThat(pool.allocations()).isEqualTo(1);
    }
  }

  @Test
  void takeChoosesTheSmallestFreeBufferThatFits() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        BlockPool pool = new BlockPool(allocator)) {
      FloatBlock large = pool.take(100, 16);
      FloatBlock small = pool.take(100, 4);
      long smallAddress = small.buffer().memoryAddress();
      long largeAddress = large.buffer().memoryAddress();
      large.close();
      small.close();
      try (FloatBlock a = pool.take(50, 4); FloatBlock b = pool.take(100, 10)) {
        assertThat(a.buffer().memoryAddress()).isEqualTo(smallAddress);
        assertThat(b.buffer().memoryAddress()).isEqualTo(largeAddress);
      }
      assertThat(pool.allocations()).isEqualTo(2);
    }
  }

  @Test
  void aBufferTooSmallForEveryTakeIsFreedNotHoarded() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        BlockPool pool = new BlockPool(allocator)) {
      pool.take(10, 4).close();
      long small = allocator.getAllocatedMemory();
      try (FloatBlock big = pool.take(1000, 4)) {
        assertThat(allocator.getAllocatedMemory()).as("the small buffer was freed").isEqualTo(
            big.buffer().getActualMemoryConsumed());
        assertThat(small).isLessThan(big.buffer().getActualMemoryConsumed());
      }
      assertThat(pool.allocations()).isEqualTo(2);
    }
  }

  @Test
  void aBufferStillReferencedElsewhereIsNotReused() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        BlockPool pool = new BlockPool(allocator)) {
      FloatBlock pooled = pool.take(4, 2);
      for (int i = 0; i < 8; i++) {
        pooled.set(i / 2, i % 2, i);
      }
      try (FloatBlock kept = FloatBlock.wrap(pooled.buffer(), 4, 2)) {
        pooled.close();
        try (FloatBlock next = pool.take(4, 2)) {
          assertThat(next.buffer().memoryAddress()).isNotEqualTo(kept.buffer().memoryAddress());
          next.set(0, 0, -1f);
        }
        assertThat(kept.toArray()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
      }
    }
  }

  @Test
  void closingFreesEveryBufferAndABlockClosedLaterFreesItsOwn() {
    LeakCheckingAllocator allocator = new LeakCheckingAllocator();
    FloatBlock stillOut;
    try (BlockPool pool = new BlockPool(allocator)) {
      pool.take(10, 10).close();
      pool.take(20, 20).close();
      stillOut = pool.take(5, 5);
    }
    assertThat(allocator.getAllocatedMemory()).isEqualTo(stillOut.buffer().getActualMemoryConsumed());
    stillOut.close();
    stillOut.close(); // harmless
    allocator.close(); // fails the test if anything leaked
  }

  @Test
  void takeFromAClosedPoolFails() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator()) {
      BlockPool pool = new BlockPool(allocator);
      pool.close();
      assertThatThrownBy(() -> pool.take(1, 1)).isInstanceOf(IllegalStateException.class)
          .hasMessage("Cannot take a block from a closed pool");
    }
  }

  @Test
  void rejectsANegativeSize() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        BlockPool pool = new BlockPool(allocator)) {
      assertThatThrownBy(() -> pool.take(-1, 3)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Invalid block size: -1x3 (must be >= 0)");
    }
  }

  @Test
  void anEmptyBlockNeedsNoBuffer() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        BlockPool pool = new BlockPool(allocator);
        FloatBlock empty = pool.take(0, 16)) {
      assertThat(empty.rows()).isZero();
      assertThat(pool.allocations()).isZero();
    }
  }
}
