package dev.sparklinear.core.block;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The one Arrow {@link RootAllocator} of this JVM for code that has no allocator of its own to pass (the vector form
 * of {@code Module.call}), as Arrow's memory guide advises: one root per program, and a named child per use, closed
 * when the use ends so that a leak shows there.
 *
 * <p>The root is made on first use and lives as long as the JVM; it is never closed. Code that owns a lifetime (a
 * Spark partition, a test) takes its own child allocator and passes it down as a {@link BufferAllocator}.
 */
public final class ProgramAllocator {
  private ProgramAllocator() {
  }

  private static final class Holder {
    static final RootAllocator ROOT = new RootAllocator();
  }

  /**
   * A new child of the program's root allocator, with no limit of its own; the caller closes it.
   *
   * @param name what the child is for, shown in Arrow's leak reports
   */
  public static BufferAllocator newChild(String name) {
    return Holder.ROOT.newChildAllocator(name, 0, Long.MAX_VALUE);
  }
}
