package dev.sparklinear.core.kernel;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * {@code sun.misc.Unsafe}, for kernels that read float32 values from an Arrow buffer in place.
 *
 * <p>Kernels call {@code UNSAFE.getFloat(address)} themselves, in their loops. Nothing narrower serves:
 * {@code ArrowBuf.getFloat} checks bounds and the reference count on every read, and any static method wrapping the
 * read (Arrow's {@code MemoryUtil.getInt}, or one here) is a call that C2 stops inlining once a large unrolled kernel
 * has used up its inlining budget: measured, the compiled 64 -> 16 kernel then kept real calls and ran 2.5-3.5x
 * slower. {@code Unsafe.getFloat} itself is forced inline down to an intrinsic, so a read compiles to the operand of
 * the instruction that uses it (a broadcast from memory). Arrow reads and writes all its buffers through the same
 * class.
 *
 * <p>Callers check bounds once per call, before reading: an unchecked address reads whatever is there, or crashes the
 * JVM.
 *
 * <p>Where {@code Unsafe} cannot be had, or its memory access is denied ({@code --sun-misc-unsafe-memory-access=deny}
 * on JDK 23 and later), {@link #AVAILABLE} is false, {@link #UNSAFE} is null and kernels copy through the heap instead.
 */
final class UnsafeMemory {
  /** Whether {@link #UNSAFE} may be used. */
  static final boolean AVAILABLE;
  /** Why not, when not available; null when available. */
  static final String UNAVAILABLE_REASON;

  /** Null when not {@link #AVAILABLE}. */
  static final sun.misc.Unsafe UNSAFE;

  static {
    sun.misc.Unsafe unsafe = null;
    String reason;
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      reason = "blocks are little-endian and this platform is not";
    } else {
      try {
        Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        unsafe = (sun.misc.Unsafe) field.get(null);
        reason = probeRead(unsafe);
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        reason = e.toString();
      }
    }
    AVAILABLE = reason == null;
    UNAVAILABLE_REASON = reason;
    UNSAFE = AVAILABLE ? unsafe : null;
  }

  /**
   * Reads a known value, so that a JVM that denies Unsafe memory access is found here and not mid-kernel: null when
   * the read gives it back, else what went wrong.
   */
  private static String probeRead(sun.misc.Unsafe unsafe) {
    ByteBuffer probe = ByteBuffer.allocateDirect(Float.BYTES).order(ByteOrder.nativeOrder());
    probe.putFloat(0, 1.5f);
    float read = unsafe.getFloat(MemoryUtil.getByteBufferAddress(probe));
    return read == 1.5f ? null : "a probe read gave " + read + " instead of 1.5";
  }

  private UnsafeMemory() {}
}
