package dev.sparklinear.core.kernel;

/**
 * The order in which every kernel sums the terms of one output, described in {@link LinearKernel}: the inputs split
 * into at most {@value #MAX_CHAINS} contiguous chains of {@link #chainLength(int)} inputs, each a sequence of fused
 * multiply-adds, combined pairwise. Kernels ask this class where the chains start and end, so that the split is decided
 * in one place.
 */
final class SummationOrder {
  /** Chains per output at most. */
  static final int MAX_CHAINS = 4;
  /**
   * Inputs a chain takes before a second chain starts: up to this width a layer is summed in one chain, as before,
   * and a kernel combines nothing. Combining costs one addition per output and chain after the first, on the ports the
   * multiply-adds use: at 64 inputs, four chains of 16 cost 3 additions per 64 multiply-adds (measured 10-30% of a
   * 64 -> 256 call), two chains of 32 cost 1; and two chains of 32 already halve PyTorch's error on the 64 -> 16
   * fixture (0.44x against 0.33x with four).
   */
  static final int MIN_CHAIN_LENGTH = 32;

  private SummationOrder() {}

  /**
   * Inputs per chain (the last chain may have fewer): {@value #MIN_CHAIN_LENGTH} up to 128 inputs, else a quarter of
   * them rounded up to a multiple of four, so that the vector kernel's loops unrolled by four inputs run whole within
   * every chain but the last.
   */
  static int chainLength(int in) {
    return in <= MAX_CHAINS * MIN_CHAIN_LENGTH ? MIN_CHAIN_LENGTH : 4 * ((in + 15) / 16);
  }

  /** How many chains an output of a layer with {@code in} inputs is summed in: 1 to {@value #MAX_CHAINS}. */
  static int chains(int in) {
    int length = chainLength(in);
    return Math.max(1, (in + length - 1) / length);
  }
}
