package dev.sparklinear.core.nn;

/**
 * Removes the hook it was returned for, as PyTorch's {@code RemovableHandle}. Removing twice is harmless, so a handle
 * can be used in try-with-resources and still be removed early.
 *
 * <pre>{@code
 * try (RemovableHandle handle = fc.registerForwardHook((m, in, out, ctx) -> { count(out); return null; })) {
 *   fc.call(block).close();
 * }
 * }</pre>
 */
public interface RemovableHandle extends AutoCloseable {
  void remove();

  @Override
  default void close() {
    remove();
  }
}
