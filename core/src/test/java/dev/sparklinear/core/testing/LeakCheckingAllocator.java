package dev.sparklinear.core.testing;

import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.RootAllocator;

/**
 * A root allocator for one test that fails the test if any byte is still allocated when it is closed.
 *
 * <pre>{@code
 * try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
 *      FloatBlock x = FloatBlock.copyOf(allocator, rows)) {
 *   ...
 * }  // AssertionError here if a block was not closed
 * }</pre>
 */
public final class LeakCheckingAllocator extends RootAllocator {

  public LeakCheckingAllocator() {
    super();
  }

  /** An allocator that also tells {@code listener} of each allocation, for tests that count them. */
  public LeakCheckingAllocator(AllocationListener listener) {
    super(listener, Long.MAX_VALUE);
  }

  @Override
  public void close() {
    long leaked = getAllocatedMemory();
    if (leaked == 0) {
      super.close();
      return;
    }
    AssertionError error = new AssertionError(
        "Arrow memory leaked: " + leaked + " bytes still allocated when the test's allocator was closed");
    try {
      super.close();
    } catch (RuntimeException alsoReportedByArrow) {
      error.addSuppressed(alsoReportedByArrow);
    }
    throw error;
  }
}
