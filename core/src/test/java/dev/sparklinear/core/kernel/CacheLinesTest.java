package dev.sparklinear.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link CacheLines} on this JVM (HotSpot, as the tests run): that it reads where arrays lie, checked against the one
 * thing Java does promise about placement, that a thread's small allocations follow each other; and that the arrays it
 * allocates start a cache line.
 */
class CacheLinesTest {
  /** float[5]: a 16-byte header and 20 bytes of values, 40 bytes with 8-byte alignment. */
  private static final int OBJECT_BYTES = 40;

  @Test
  void readsWhereArraysLieOnHotSpot() {
    assertThat(CacheLines.known()).as("array addresses readable on this JVM").isTrue();
    int samples = 64;
    float[][] arrays = new float[samples][];
    int[] phases = new int[samples];
    for (int i = 0; i < samples; i++) {
      arrays[i] = new float[5];
    }
    for (int i = 0; i < samples; i++) {
      phases[i] = CacheLines.phase(arrays[i]);
    }
    int following = 0;
    for (int i = 1; i < samples; i++) {
      assertThat(phases[i]).as("phase of array %d", i).isBetween(0, CacheLines.LINE - 1);
      assertThat(phases[i] % 8).as("objects lie at 8-byte boundaries").isEqualTo(phases[0] % 8);
      if (phases[i] == (phases[i - 1] + OBJECT_BYTES) % CacheLines.LINE) {
        following++;
      }
    }
    // A new allocation buffer or a collection may come between two allocations, rarely more than once or twice.
    assertThat(following).as("arrays found right after the one before, of %d", samples - 1)
        .isGreaterThanOrEqualTo(samples - 4);
  }

  @Test
  void floatsToLineFindsTheNextLineStart() {
    float[][] arrays = new float[200][];
    for (int i = 0; i < arrays.length; i++) {
      arrays[i] = new float[1 + i % 37];
    }
    boolean[] seen = new boolean[CacheLines.LINE / 8];
    for (float[] array : arrays) {
      int phase = CacheLines.phase(array);
      int skip = CacheLines.floatsToLine(array);
      assertThat(skip).isBetween(0, CacheLines.SLACK - 1);
      assertThat((phase + skip * Float.BYTES) % CacheLines.LINE).as("phase %d + %d floats", phase, skip).isZero();
      seen[phase / 8] = true;
    }
    // Arrays of many lengths one after another land at every 8-byte place in a line.
    assertThat(seen).as("phases seen, in steps of 8 bytes").containsOnly(true);
  }
}
