package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * The contract every fuzz property of the weight readers checks, and the mutations they share. A read either returns
 * or throws {@link WeightFileException} with the documented prefix, within a time bound and a memory bound; anything
 * else fails the property, and jqwik shrinks the input that caused it.
 */
final class WeightFuzzing {
  /** Far above any honest read of the small inputs generated here, far below a hang. */
  static final Duration TIME_LIMIT = Duration.ofSeconds(5);
  /**
   * What one read of a generated input (at most a few KiB) may allocate: the readers' 1 MiB first chunk, messages,
   * and room for a class loaded on first use; far below the gigabytes a lying header can claim.
   */
  static final long ALLOCATION_LIMIT = 32L << 20;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  static {
    // Load the readers' classes once, so that class loading is not counted as a read's allocation.
    SafetensorsReader.read(Fixtures.bytes("model_f32.safetensors"), "warm-up");
    NpyReader.read(Fixtures.bytes("fc_weight_f4.npy"), "warm-up");
  }

  private WeightFuzzing() {}

  /** How one read ended. */
  enum Outcome { READ, REJECTED }

  /**
   * Runs {@code read} under the time and memory bounds and returns whether it read or rejected the input; any other
   * exception or error propagates and fails the calling property.
   */
  static Outcome readOrReject(String source, Supplier<?> read) {
    return assertTimeoutPreemptively(TIME_LIMIT, () -> {
      long before = THREADS.getCurrentThreadAllocatedBytes();
      Outcome outcome;
      try {
        assertThat(read.get()).isNotNull();
        outcome = Outcome.READ;
      } catch (WeightFileException e) {
        assertThat(e.getMessage()).startsWith("Cannot read weights from " + source + ": ");
        assertThat(e.source()).isEqualTo(source);
        outcome = Outcome.REJECTED;
      }
      long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
      assertThat(allocated).as("bytes allocated by one read").isLessThan(ALLOCATION_LIMIT);
      return outcome;
    });
  }

  /** A way of damaging a file. */
  record Mutation(String kind, int position, int value) {
    /** Applies this mutation to a copy of {@code file}; positions and values are taken modulo what fits. */
    byte[] apply(byte[] file) {
      int length = file.length;
      int at = length == 0 ? 0 : Math.floorMod(position, length);
      byte[] out;
      switch (kind) {
        case "flip-bit" -> {
          out = file.clone();
          if (length > 0) {
            out[at] ^= (byte) (1 << Math.floorMod(value, 8));
          }
        }
        case "set-byte" -> {
          out = file.clone();
          if (length > 0) {
            out[at] = (byte) value;
          }
        }
        case "truncate" -> out = Arrays.copyOf(file, at);
        case "extend" -> {
          out = Arrays.copyOf(file, length + 1 + Math.floorMod(value, 64));
          Arrays.fill(out, length, out.length, (byte) value);
        }
        case "delete-byte" -> {
          out = new byte[Math.max(0, length - 1)];
          if (length > 0) {
            System.arraycopy(file, 0, out, 0, at);
            System.arraycopy(file, at + 1, out, at, length - at - 1);
          }
        }
        case "insert-byte" -> {
          out = new byte[length + 1];
          System.arraycopy(file, 0, out, 0, at);
          out[at] = (byte) value;
          System.arraycopy(file, at, out, at + 1, length - at);
        }
        default -> throw new IllegalArgumentException(kind);
      }
      return out;
    }
  }

  /** Mutations anywhere in a file. */
  static Arbitrary<Mutation> mutations() {
    return mutationsWithin(Integer.MAX_VALUE);
  }

  /** Mutations at positions below {@code limit} (taken modulo the file length). */
  static Arbitrary<Mutation> mutationsWithin(int limit) {
    return Combinators.combine(
            Arbitraries.of("flip-bit", "set-byte", "truncate", "extend", "delete-byte", "insert-byte"),
            Arbitraries.integers().between(0, limit - 1),
            Arbitraries.integers().between(0, 255))
        .as(Mutation::new);
  }

  /** Numbers that sit on the edges readers get wrong: signs, int and long limits, products that overflow. */
  static Arbitrary<String> edgeNumbers() {
    return Arbitraries.oneOf(
        Arbitraries.of("0", "1", "-1", "2", "3", "4", "12", "48", "65535", "65536", "2147483647", "2147483648",
            "-2147483648", "-2147483649", "4294967295", "4294967296", "1152921504606846976", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "18446744073709551616", "99999999999999999999999999",
            "1e3", "1.0", "1.5", "-0", "0x10", "NaN", "Infinity", "1e400"),
        Arbitraries.longs().map(String::valueOf),
        Arbitraries.integers().between(-8, 300).map(String::valueOf));
  }
}
