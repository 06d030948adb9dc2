package dev.sparklinear.core.nn;

import java.util.SplittableRandom;

/**
 * Parameter initialisation, after {@code torch.nn.init}, and the JVM-wide seed that layers built without an explicit
 * seed draw from, after {@code torch.manual_seed}.
 *
 * <p>The values cannot equal PyTorch's (its generator is not reproduced here); their distributions do, and the same
 * seed always gives the same values, on any JVM.
 */
public final class Init {
  /** PyTorch's default generator starts from this seed too ({@code torch.initial_seed()} in a fresh process). */
  public static final long DEFAULT_SEED = 67280421310721L;

  private static SplittableRandom seeds = new SplittableRandom(DEFAULT_SEED);

  private Init() {}

  /** Reseeds the JVM-wide generator, as {@code torch.manual_seed(seed)}. */
  public static synchronized void manualSeed(long seed) {
    seeds = new SplittableRandom(seed);
  }

  /** The seed for the next layer built without one. */
  static synchronized long nextSeed() {
    return seeds.nextLong();
  }

  /**
   * Values uniform in {@code [-bound, bound)} with {@code bound = gain * sqrt(3 / fanIn)} and
   * {@code gain = sqrt(2 / (1 + a^2))}, as {@code kaiming_uniform_(w, a)} with fan-in mode and leaky-ReLU gain. With
   * {@code a = sqrt(5)} (what {@code nn.Linear} uses) the bound is {@code 1 / sqrt(fanIn)}.
   */
  public static float[] kaimingUniform(SplittableRandom random, int count, int fanIn, double a) {
    double gain = Math.sqrt(2.0 / (1 + a * a));
    return uniform(random, count, gain * Math.sqrt(3.0 / fanIn));
  }

  /** Values uniform in {@code [-bound, bound)}. */
  public static float[] uniform(SplittableRandom random, int count, double bound) {
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return out;
  }
}
