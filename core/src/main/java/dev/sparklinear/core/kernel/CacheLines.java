package dev.sparklinear.core.kernel;

/**
 * Where float arrays lie in 64-byte cache lines, so that the vector kernel's packed weights can start one.
 *
 * <p>Why: the kernel loads its weights a whole vector at a time (64 bytes with AVX-512). Where an array's elements
 * start mid-line, every such load spans two lines and costs two loads; a general layer then ran 20-30% slower
 * (measured on 256 -> 256: 1.0-1.1 ms a call aligned, 1.3-1.45 ms not, the same code). The JVM places arrays at 8-byte
 * boundaries, so which of the two a kernel got was chance, decided anew in every JVM and after every garbage
 * collection that moved the array.
 *
 * <p>Java cannot ask for an aligned array, so this class finds where an array lies (through {@code sun.misc.Unsafe},
 * reading the reference to it as HotSpot stores it), and a kernel allocates a line's worth of floats more than it
 * needs and starts its values at the first line boundary in the array ({@link #floatsToLine}). Only speed depends on
 * it: the arrays are ordinary arrays, indexed with bounds checks as ever, and where this JVM's references cannot be
 * read as addresses (no {@code Unsafe}, another layout) {@link #phase} is -1 and the values start at index 0.
 */
final class CacheLines {
  /** Bytes per cache line on the x86 and ARM cores the kernels run on. */
  static final int LINE = 64;
  /** Floats of slack an array needs so that {@link #floatsToLine} values of it can be skipped: one line's worth. */
  static final int SLACK = LINE / Float.BYTES;

  private static final sun.misc.Unsafe UNSAFE = UnsafeMemory.UNSAFE;
  private static final long OBJECT_ARRAY_BASE;
  private static final long FLOAT_ARRAY_BASE;
  /** Bytes per stored reference: 4 with compressed references, 8 without; 0 when addresses cannot be read. */
  private static final int REFERENCE_BYTES;
  /** How far a compressed reference is shifted to give an address: 0, or log2 of the objects' alignment. */
  private static final int SHIFT;

  /** Where {@link #phase} puts the array whose stored reference it reads. */
  private static final ThreadLocal<Object[]> HOLDER = ThreadLocal.withInitial(() -> new Object[1]);

  /** Keeps the probe objects of {@link #referenceShift} reachable until all are allocated. */
  @SuppressWarnings("unused")
  private static volatile Object keep;

  static {
    int referenceBytes = 0;
    long objectBase = 0;
    long floatBase = 0;
    int shift = 0;
    if (UNSAFE != null) {
      try {
        objectBase = UNSAFE.arrayBaseOffset(Object[].class);
        floatBase = UNSAFE.arrayBaseOffset(float[].class);
        referenceBytes = UNSAFE.arrayIndexScale(Object[].class);
        shift = referenceShift(objectBase, referenceBytes);
        if (shift < 0 || (referenceBytes != 4 && referenceBytes != 8)) {
          referenceBytes = 0;
        }
      } catch (RuntimeException | LinkageError e) {
        referenceBytes = 0;
      }
    }
    REFERENCE_BYTES = referenceBytes;
    OBJECT_ARRAY_BASE = objectBase;
    FLOAT_ARRAY_BASE = floatBase;
    SHIFT = Math.max(0, shift);

  }

  private CacheLines() {}

  /**
   * How far stored references are shifted from addresses, found from objects allocated one after another:
   * {@code new long[1]} takes 24 bytes (8-byte alignment) or 32 (16-byte), so consecutive references differ by that
   * many bytes unshifted, or by 3 (24 >> 3) or 2 (32 >> 4) when compressed and shifted. The difference seen most often
   * wins (a thread's allocation buffer may run out between two allocations); -1 when none is plausible, as with a
   * collector that keeps tag bits in the low bits of its references (generational ZGC): then nothing is aligned.
   */
  private static int referenceShift(long objectBase, int referenceBytes) {
    Object[] holder = new Object[1];
    int samples = 16;
    long[] narrow = new long[samples];
    Object[] keep = new Object[samples];
    for (int i = 0; i < samples; i++) {
      keep[i] = new long[1];
      holder[0] = keep[i];
      narrow[i] = referenceBytes == 8 ? UNSAFE.getLong(holder, objectBase)
          : UNSAFE.getInt(holder, objectBase) & 0xFFFFFFFFL;
    }
    int[] votes = new int[5];
    for (int i = 1; i < samples; i++) {
      long delta = narrow[i] - narrow[i - 1];
      if (delta == 24 || delta == 32) {
        votes[0]++;
      } else if (delta == 3) {
        votes[3]++;
      } else if (delta == 2) {
        votes[4]++;
      }
    }
    int best = -1;
    for (int shift : referenceBytes == 8 ? new int[] {0} : new int[] {0, 3, 4}) {
      if (votes[shift] > samples / 2 && (best < 0 || votes[shift] > votes[best])) {
        best = shift;
      }
    }
    CacheLines.keep = keep;
    return best;
  }

  /** Whether {@link #phase} can tell where arrays lie in this JVM. */
  static boolean known() {
    return REFERENCE_BYTES != 0;
  }

  /**
   * How many bytes past the start of a cache line {@code array[0]} lies now (0 to 63), or -1 when this JVM's
   * references cannot be read as addresses. The answer holds until a garbage collection moves the array.
   */
  static int phase(float[] array) {
    if (REFERENCE_BYTES == 0) {
      return -1;
    }
    // A holder of the thread's own: no allocation per call.
    Object[] holder = HOLDER.get();
    holder[0] = array;
    long address = REFERENCE_BYTES == 8
        ? UNSAFE.getLong(holder, OBJECT_ARRAY_BASE)
        : (UNSAFE.getInt(holder, OBJECT_ARRAY_BASE) & 0xFFFFFFFFL) << SHIFT;
    holder[0] = null;
    // A heap base added to compressed references is aligned far beyond a line, so it does not change the phase.
    return (int) ((address + FLOAT_ARRAY_BASE) & (LINE - 1));
  }

  /**
   * How many floats past {@code array[0]} the next cache line starts (0 to 15): the index at which a kernel that
   * allocated {@link #SLACK} floats more than it needs puts its values, so that they start a line. 0 when this JVM's
   * layout is unknown.
   */
  static int floatsToLine(float[] array) {
    int phase = phase(array);
    return phase <= 0 ? 0 : (LINE - phase) / Float.BYTES;
  }
}
