package dev.sparklinear.core.kernel;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.apache.arrow.memory.ArrowBuf;
import sun.misc.Unsafe;

/**
 * The fast kernel, on the JDK Vector API ({@code jdk.incubator.vector}), in the JVM's preferred vector width.
 *
 * <p>Only {@link LinearKernels} makes one, and only after checking that the module is present: this class must not be
 * loaded on a JVM without it.
 *
 * <p><b>Layout.</b> Outputs are spread over vector lanes and inputs are broadcast, so that no horizontal sum is ever
 * needed. The weight is packed once, at construction:
 *
 * <ul>
 *   <li><i>general</i> ({@code out > lanes}): in panels of {@code 4 * lanes} outputs; within a panel, for each input
 *       {@code k}, the panel's weights for {@code k} are contiguous ({@code packed[panel][k][j] = W[panel * 4 * lanes +
 *       j][k]}, zero past {@code out}). The micro-kernel computes 4 rows x 4 vectors of outputs in 16 accumulators:
 *       per input, 4 weight loads and 4 broadcasts feed 16 fused multiply-adds. Rows and outputs past the tile are done
 *       by 1-row and 1-vector variants of the same loop, the last partial vector stored under a mask.
 *   <li><i>narrow</i> ({@code out <= lanes}, e.g. 64 -> 16 or 4 -> 3): the transposed weight, one vector per input
 *       ({@code packed[k][j] = W[j][k]}), small enough to stay in L1 for any input width seen in practice. The
 *       micro-kernel computes 8 rows at once, one vector of outputs each: per input, one weight load serves 8 fused
 *       multiply-adds. Each row's vector is stored whole, in row order, so that the lanes past {@code out} land on the
 *       next row's outputs and are overwritten by its own store; the scratch array has one vector of slack at the end.
 * </ul>
 *
 * <p><b>Arrow memory.</b> The narrow kernel reads x in place: it only ever reads x as scalars to broadcast, and a
 * broadcast from an off-heap address (through {@link UnsafeMemory}) compiles to the same single instruction as one from
 * a heap array. That skips a copy that cost 20-40% of a 64 -> 16 call (one thread, 4096 rows: about 62 us in place
 * against 77-83 us copied, on JDK 17 and 25). The general kernel reads each row of x once per packed panel, so it
 * copies a tile of x (128 KiB, which stays in L2) into a heap array with {@link FloatBlock#readRows} first; there the
 * copies are 2-6% of a call. Both write y through a heap tile and {@link FloatBlock#writeRows}: a vector store into
 * Arrow memory would need {@code intoByteBuffer} (gone after JDK 19) or {@code intoMemorySegment} (absent before JDK
 * 19), so no single source serves 17 and 25. Where {@code Unsafe} memory access is unavailable the narrow kernel copies
 * x too. The {@code bench} module's {@code copyOnly} contender measures what the copies cost per call.
 *
 * <p><b>Summation order.</b> Each output is summed in float32 in the order {@link LinearKernel} fixes, which the scalar
 * kernel follows too: up to four chains of fused multiply-adds over contiguous runs of inputs, combined pairwise. Each
 * chain's accumulators start at the bias for the first chain, at zero for the others. The narrow micro-kernels run the
 * chains one after the other and keep their partial sums in registers; the general ones (16 accumulators already) run
 * once per chain and store straight into the y tile where an output has one chain (up to 32 inputs), else into a small
 * per-thread array of partial sums, which are then added pairwise into the y tile (through the fused ReLU, if any).
 * With the weight on cache-line starts, the order costs about 6% of a 64 -> 16 or 64 -> 256 call against one chain
 * and 0-3% from 256 inputs (same JVM, old and new kernel interleaved); keeping the sums in registers instead needs a
 * smaller register tile, and every one measured was slower on JDK 17 and 25, most on wide inputs: 4 rows x 2 vectors
 * 1.0-1.3x the time, 2 rows x 4 vectors 1.05-1.8x, two chains side by side in 2 rows x 4 vectors 1.3x or more (per
 * multiply-add, the first broadcasts x twice as often, the others load weights twice as often, from L2 once a panel
 * outgrows L1). The order depends only on the layer's input width: not on the path, the micro-tile a row falls in, the
 * block size or the vector width.
 *
 * <p><b>Cache lines.</b> The packed weight starts a 64-byte cache line ({@link CacheLines}): a vector load that spans
 * two lines costs two, and with the JVM placing arrays at any 8-byte boundary the same call ran 20-30% slower in 7 JVMs
 * of 8. A call that finds the array moved by a garbage collection computes with an aligned copy, which later calls use.
 *
 * <p>Thread-safe: the packed weight is read-only (a moved one is copied, never changed in place) and the scratch arrays
 * are per thread.
 */
final class VectorLinearKernel implements LinearKernel {
  static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  /** Read straight, not through a method: see {@link UnsafeMemory}. Null without it; then x is always copied. */
  private static final Unsafe UNSAFE = UnsafeMemory.UNSAFE;
  private static final int LANES = SPECIES.length();

  /** Rows per general micro-tile. */
  private static final int ROWS = 4;
  /** Vectors of outputs per general micro-tile, and so per packed panel. */
  private static final int VECTORS = 4;
  private static final int PANEL = VECTORS * LANES;
  /** Rows per narrow micro-tile. */
  private static final int NARROW_ROWS = 8;

  /** Floats of x per tile: 128 KiB, which leaves room in a 512 KiB-1 MiB L2 for a weight panel of 1024 inputs. */
  private static final int TILE_VALUES = 32 * 1024;
  /**
   * Floats of x per narrow tile when x is copied: 8 KiB, so that the copy stays in L1 (measured on 64 -> 16: 128 KiB
   * tiles took 93 us a call, 4-8 KiB tiles 77-85 us).
   */
  private static final int NARROW_TILE_VALUES = 2 * 1024;
  /** Floats of y per narrow tile when x is read in place: 4 KiB, in L1 until written out. */
  private static final int NARROW_OUTPUT_TILE_VALUES = 1024;
  /**
   * Floats of y per general tile at most: 128 KiB, so that a wide layer's y tile stays in L2 beside its x tile until it
   * is written out (64 -> 256 took 512 x 256 floats, 512 KiB, from the x tile alone, and ran 4-10% slower).
   */
  private static final int GENERAL_OUTPUT_TILE_VALUES = 32 * 1024;

  /**
   * Floats of the chains' partial sums of one general micro-tile (4 rows of a panel), when an output is summed in more
   * than one chain. The narrow kernel keeps them in registers.
   */
  private static final int PARTIAL_VALUES = SummationOrder.MAX_CHAINS * ROWS * PANEL;
  /**
   * Floats of slack in the y tile and the partial sums, so that each call can start them at a cache line
   * ({@link CacheLines#floatsToLine}) wherever the arrays lie: their vector stores and loads then never span two lines.
   */
  private static final int SLACK = CacheLines.SLACK;

  /**
   * Per-thread scratch, grown on demand: index 0 holds x tiles, index 1 y tiles, index 2 the chains' partial sums of
   * a micro-tile.
   */
  /** One vector of +0.0: the start of every chain but the first, loaded as the bias is. */
  private static final float[] ZEROS = new float[LANES];

  private static final ThreadLocal<float[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[PARTIAL_VALUES + SLACK]});

  private final int in;
  private final int out;
  private final boolean narrow;
  /** Narrow, and x read from Arrow memory in place rather than copied. */
  private final boolean inPlace;
  /**
   * Narrow: {@code [in][LANES]}. General: {@code [panels][in][PANEL]}. Zero past {@code out}. From index {@link #base},
   * with {@link CacheLines#SLACK} floats to spare.
   */
  private final float[] packed;
  /** Where the packed weight starts in {@link #packed}: at the start of a cache line, when it was packed. */
  private final int base;
  /** The bias padded with zeros to a whole number of panels (general) or one vector (narrow); zeros without a bias. */
  private final float[] bias;
  private final int tileRows;
  /** Inputs per chain and chains per output: see {@link LinearKernel} and {@link SummationOrder}. */
  private final int chainLength;
  private final int chains;
  /**
   * This kernel, or the latest copy of it made because a garbage collection moved {@code packed} so that {@code base}
   * no longer starts a cache line; every call reads it once and computes with that kernel throughout. Copies are made
   * as this one is and never change, so a call racing with a copy computes with either, the same bits.
   */
  private volatile VectorLinearKernel aligned = this;

  VectorLinearKernel(Tensor weight, Tensor bias) {
    this(weight, bias, UnsafeMemory.AVAILABLE);
  }

  /** With {@code readInPlace} false, the narrow kernel copies x as the general one does (tested both ways). */
  VectorLinearKernel(Tensor weight, Tensor bias, boolean readInPlace) {
    this.out = weight.size(0);
    this.in = weight.size(1);
    this.narrow = out <= LANES;
    this.inPlace = narrow && readInPlace;
    float[] w = weight.toArray();
    if (narrow) {
      packed = new float[in * LANES + CacheLines.SLACK];
      base = CacheLines.floatsToLine(packed);
      for (int o = 0; o < out; o++) {
        for (int k = 0; k < in; k++) {
          packed[base + k * LANES + o] = w[o * in + k];
        }
      }
      this.bias = new float[LANES];
    } else {
      int panels = (out + PANEL - 1) / PANEL;
      packed = new float[panels * in * PANEL + CacheLines.SLACK];
      base = CacheLines.floatsToLine(packed);
      for (int o = 0; o < out; o++) {
        int panelBase = base + (o / PANEL) * in * PANEL + o % PANEL;
        for (int k = 0; k < in; k++) {
          packed[panelBase + k * PANEL] = w[o * in + k];
        }
      }
      this.bias = new float[panels * PANEL];
    }
    if (bias != null) {
      bias.copyTo(this.bias, 0);
    }
    int rowsPerTile;
    if (inPlace) {
      rowsPerTile = NARROW_OUTPUT_TILE_VALUES / out;
    } else {
      rowsPerTile = narrow ? NARROW_TILE_VALUES / in : Math.min(TILE_VALUES / in, GENERAL_OUTPUT_TILE_VALUES / out);
    }
    int multiple = narrow ? NARROW_ROWS : ROWS;
    this.tileRows = Math.max(multiple, rowsPerTile / multiple * multiple);
    this.chainLength = SummationOrder.chainLength(in);
    this.chains = SummationOrder.chains(in);
  }

  /** A copy of {@code kernel} with its packed weight in a new array, starting a cache line. */
  private VectorLinearKernel(VectorLinearKernel kernel) {
    this.in = kernel.in;
    this.out = kernel.out;
    this.narrow = kernel.narrow;
    this.inPlace = kernel.inPlace;
    this.packed = new float[kernel.packed.length];
    this.base = CacheLines.floatsToLine(packed);
    int values = packed.length - CacheLines.SLACK;
    System.arraycopy(kernel.packed, kernel.base, packed, base, values);
    this.bias = kernel.bias;
    this.tileRows = kernel.tileRows;
    this.chainLength = kernel.chainLength;
    this.chains = kernel.chains;
  }

  /**
   * Whether the packed weight the next call computes with starts a cache line now: false after a garbage collection
   * moved it, until a call has made an aligned copy. For tests.
   */
  boolean weightStartsALine() {
    VectorLinearKernel kernel = aligned;
    return CacheLines.floatsToLine(kernel.packed) == kernel.base;
  }

  /** Floats per vector in the preferred species: 16 with AVX-512, 8 with AVX2. */
  static int lanes() {
    return LANES;
  }

  @Override
  public int inFeatures() {
    return in;
  }

  @Override
  public int outFeatures() {
    return out;
  }

  @Override
  public String name() {
    return "vector";
  }

  /**
   * The kernel's layout, vector width and how it reads x, for logs: {@code VectorLinearKernel(4 -> 3, narrow, 16 lanes,
   * x in place)}.
   */
  @Override
  public String toString() {
    return "VectorLinearKernel(" + in + " -> " + out + ", " + (narrow ? "narrow" : "general") + ", " + LANES
        + " lanes, " + (inPlace ? "x in place" : "x copied") + ")";
  }

  @Override
  public void apply(FloatBlock x, FloatBlock y, Epilogue epilogue) {
    VectorLinearKernel kernel = aligned;
    if (CacheLines.floatsToLine(kernel.packed) != kernel.base) {
      // Moved since it was packed: this call and the later ones of every thread use a copy that starts a line.
      kernel = new VectorLinearKernel(kernel);
      aligned = kernel;
    }
    kernel.compute(x, y, epilogue);
  }

  /** {@link #apply} with this kernel's packed weight, wherever it lies. */
  private void compute(FloatBlock x, FloatBlock y, Epilogue epilogue) {
    int n = x.rows();
    if (n == 0) {
      return;
    }
    if (inPlace) {
      applyNarrowInPlace(x, y, n, epilogue);
      return;
    }
    int rows = Math.min(n, tileRows);
    float[][] scratch = SCRATCH.get();
    if (scratch[0].length < rows * in) {
      scratch[0] = new float[rows * in];
    }
    // One vector of slack: the narrow kernel stores whole vectors past the last row's outputs.
    if (scratch[1].length < rows * out + LANES + SLACK) {
      scratch[1] = new float[rows * out + LANES + SLACK];
    }
    float[] xs = scratch[0];
    float[] ys = scratch[1];
    float[] part = scratch[2];
    int y0 = CacheLines.floatsToLine(ys);
    int p0 = CacheLines.floatsToLine(part);
    for (int first = 0; first < n; first += tileRows) {
      int count = Math.min(tileRows, n - first);
      x.readRows(first, count, xs, 0);
      if (narrow) {
        narrowTile(xs, ys, y0, count);
        finish(ys, y0, count * out, epilogue);
      } else if (epilogue == Epilogue.RELU && chains > 1) {
        // Applied to each vector of sums as it is combined, before its one store: no second pass over the tile.
        generalTile(xs, ys, y0, count, part, p0, 0f);
      } else {
        generalTile(xs, ys, y0, count, part, p0, Float.NEGATIVE_INFINITY);
        finish(ys, y0, count * out, epilogue);
      }
      y.writeRows(first, count, ys, y0);
    }
  }

  /**
   * Applies {@code epilogue} to the {@code count} values of a finished tile from {@code ys[from]}, while it is still in
   * cache. ReLU runs as vector compares and blends: {@code x < 0} is false for NaN and {@code -0.0}, which pass
   * unchanged, as in {@link Epilogue#relu}.
   */
  private static void finish(float[] ys, int from, int count, Epilogue epilogue) {
    if (epilogue == null) {
      return;
    }
    int to = from + count;
    if (epilogue != Epilogue.RELU) {
      epilogue.apply(ys, from, to);
      return;
    }
    int i = from;
    for (int bound = from + SPECIES.loopBound(count); i < bound; i += LANES) {
      FloatVector v = FloatVector.fromArray(SPECIES, ys, i);
      v.blend(0f, v.lt(0f)).intoArray(ys, i);
    }
    Epilogue.RELU.apply(ys, i, to);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Narrow layers: out <= LANES.

  private void applyNarrowInPlace(FloatBlock x, FloatBlock y, int n, Epilogue epilogue) {
    // Reading by address skips the checks of the block's accessors, and a wrong block would read past its buffer: so
    // check here what the callers promise.
    ArrowBuf buffer = x.buffer();
    long rowBytes = (long) in * FloatBlock.BYTES;
    if (x.cols() != in || y.cols() != out || y.rows() != n || buffer.capacity() < n * rowBytes) {
      throw new IllegalArgumentException("Cannot apply a " + in + " -> " + out + " kernel to a " + n + "x" + x.cols()
          + " block into a " + y.rows() + "x" + y.cols() + " block");
    }
    if (buffer.refCnt() == 0) {
      throw new IllegalStateException("Cannot read a block whose buffer has been released");
    }
    float[][] scratch = SCRATCH.get();
    // One vector of slack: the narrow kernel stores whole vectors past the last row's outputs.
    int yValues = Math.min(n, tileRows) * out + LANES + SLACK;
    if (scratch[1].length < yValues) {
      scratch[1] = new float[yValues];
    }
    float[] ys = scratch[1];
    int y0 = CacheLines.floatsToLine(ys);
    long start = buffer.memoryAddress();
    for (int first = 0; first < n; first += tileRows) {
      int count = Math.min(tileRows, n - first);
      long row = start + first * rowBytes;
      int r = 0;
      for (; r + NARROW_ROWS <= count; r += NARROW_ROWS) {
        narrow8InPlace(row + r * rowBytes, rowBytes, ys, y0 + r * out);
      }
      for (; r < count; r++) {
        narrow1InPlace(row + r * rowBytes, ys, y0 + r * out);
      }
      finish(ys, y0, count * out, epilogue);
      y.writeRows(first, count, ys, y0);
    }
  }

  /**
   * Eight rows of outputs, reading x at {@code address}, stored at {@code ys[y0]}, {@code ys[y0 + out]}, ... in row
   * order (each store's lanes past {@code out} are overwritten by the next row's store). Unrolled by 4 inputs so that
   * each row's address serves four reads at constant offsets (without it, address arithmetic outnumbered the
   * multiply-adds); the multiply-adds stay in input order within each chain.
   *
   * <p>The chains' sums stay in registers, combined without a branch: {@code t} sums a pair of chains, {@code s} the
   * pairs, both starting at {@code -0.0}, which is exact as a first addend ({@code -0.0 + x == x} for every x,
   * {@code -0.0} included, in round-to-nearest). So {@code s} ends as {@code c0}, {@code c0 + c1}, {@code (c0 + c1) +
   * c2} or {@code (c0 + c1) + (c2 + c3)}, bit for bit as {@link LinearKernel} orders. (Merging vectors through
   * branches on the chain instead made C2 box them: ten times slower.) 8 rows x 3 vectors and 4 weight vectors: 28 of
   * AVX-512's 32 registers.
   */
  private void narrow8InPlace(long address, long rowBytes, float[] ys, int y0) {
    if (chains == 1) {
      narrow8InPlaceOneChain(address, rowBytes, ys, y0);
      return;
    }
    final float[] w = packed;
    final int in = this.in;
    final int chains = this.chains;
    final int chainLength = this.chainLength;
    FloatVector identity = FloatVector.broadcast(SPECIES, -0f);
    FloatVector s0 = identity, s1 = identity, s2 = identity, s3 = identity;
    FloatVector s4 = identity, s5 = identity, s6 = identity, s7 = identity;
    long p0 = address;
    long p1 = p0 + rowBytes;
    long p2 = p1 + rowBytes;
    long p3 = p2 + rowBytes;
    long p4 = p3 + rowBytes;
    long p5 = p4 + rowBytes;
    long p6 = p5 + rowBytes;
    long p7 = p6 + rowBytes;
    for (int j = 0, from = 0; j < chains; j += 2) {
      FloatVector t0 = identity, t1 = identity, t2 = identity, t3 = identity;
      FloatVector t4 = identity, t5 = identity, t6 = identity, t7 = identity;
      for (int pairEnd = Math.min(chains, j + 2), i = j; i < pairEnd; i++, from += chainLength) {
        int to = Math.min(in, from + chainLength);
        FloatVector b = FloatVector.fromArray(SPECIES, i == 0 ? bias : ZEROS, 0);
        FloatVector a0 = b;
        FloatVector a1 = b;
        FloatVector a2 = b;
        FloatVector a3 = b;
        FloatVector a4 = b;
        FloatVector a5 = b;
        FloatVector a6 = b;
        FloatVector a7 = b;
        final int quads = from + ((to - from) & ~3);
        int k = from;
        for (; k < quads; k += 4) {
          int wk = base + k * LANES;
          FloatVector w0 = FloatVector.fromArray(SPECIES, w, wk);
          FloatVector w1 = FloatVector.fromArray(SPECIES, w, wk + LANES);
          FloatVector w2 = FloatVector.fromArray(SPECIES, w, wk + 2 * LANES);
          FloatVector w3 = FloatVector.fromArray(SPECIES, w, wk + 3 * LANES);
          a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0)).fma(w0, a0);
          a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1)).fma(w0, a1);
          a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2)).fma(w0, a2);
          a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3)).fma(w0, a3);
          a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4)).fma(w0, a4);
          a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5)).fma(w0, a5);
          a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6)).fma(w0, a6);
          a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7)).fma(w0, a7);
          a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 4)).fma(w1, a0);
          a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 4)).fma(w1, a1);
          a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 4)).fma(w1, a2);
          a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 4)).fma(w1, a3);
          a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 4)).fma(w1, a4);
          a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 4)).fma(w1, a5);
          a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 4)).fma(w1, a6);
          a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 4)).fma(w1, a7);
          a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 8)).fma(w2, a0);
          a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 8)).fma(w2, a1);
          a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 8)).fma(w2, a2);
          a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 8)).fma(w2, a3);
          a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 8)).fma(w2, a4);
          a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 8)).fma(w2, a5);
          a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 8)).fma(w2, a6);
          a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 8)).fma(w2, a7);
          a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 12)).fma(w3, a0);
          a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 12)).fma(w3, a1);
          a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 12)).fma(w3, a2);
          a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 12)).fma(w3, a3);
          a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 12)).fma(w3, a4);
          a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 12)).fma(w3, a5);
          a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 12)).fma(w3, a6);
          a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 12)).fma(w3, a7);
          p0 += 16;
          p1 += 16;
          p2 += 16;
          p3 += 16;
          p4 += 16;
          p5 += 16;
          p6 += 16;
          p7 += 16;
        }
        for (; k < to; k++) {
          FloatVector wk = FloatVector.fromArray(SPECIES, w, base + k * LANES);
          a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0)).fma(wk, a0);
          a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1)).fma(wk, a1);
          a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2)).fma(wk, a2);
          a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3)).fma(wk, a3);
          a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4)).fma(wk, a4);
          a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5)).fma(wk, a5);
          a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6)).fma(wk, a6);
          a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7)).fma(wk, a7);
          p0 += 4;
          p1 += 4;
          p2 += 4;
          p3 += 4;
          p4 += 4;
          p5 += 4;
          p6 += 4;
          p7 += 4;
        }
        t0 = t0.add(a0);
        t1 = t1.add(a1);
        t2 = t2.add(a2);
        t3 = t3.add(a3);
        t4 = t4.add(a4);
        t5 = t5.add(a5);
        t6 = t6.add(a6);
        t7 = t7.add(a7);
      }
      s0 = s0.add(t0);
      s1 = s1.add(t1);
      s2 = s2.add(t2);
      s3 = s3.add(t3);
      s4 = s4.add(t4);
      s5 = s5.add(t5);
      s6 = s6.add(t6);
      s7 = s7.add(t7);
    }
    final int out = this.out;
    s0.intoArray(ys, y0);
    s1.intoArray(ys, y0 + out);
    s2.intoArray(ys, y0 + 2 * out);
    s3.intoArray(ys, y0 + 3 * out);
    s4.intoArray(ys, y0 + 4 * out);
    s5.intoArray(ys, y0 + 5 * out);
    s6.intoArray(ys, y0 + 6 * out);
    s7.intoArray(ys, y0 + 7 * out);
  }

  /**
   * {@link #narrow8InPlace} for layers of one chain (up to 32 inputs): the bias-started accumulators are the outputs.
   * Without the two exact additions per row that the general form makes, which cost a third of a 4 -> 3 call.
   */
  private void narrow8InPlaceOneChain(long address, long rowBytes, float[] ys, int y0) {
    final int in = this.in;
    final float[] w = packed;
    FloatVector b = FloatVector.fromArray(SPECIES, bias, 0);
    FloatVector a0 = b;
    FloatVector a1 = b;
    FloatVector a2 = b;
    FloatVector a3 = b;
    FloatVector a4 = b;
    FloatVector a5 = b;
    FloatVector a6 = b;
    FloatVector a7 = b;
    long p0 = address;
    long p1 = p0 + rowBytes;
    long p2 = p1 + rowBytes;
    long p3 = p2 + rowBytes;
    long p4 = p3 + rowBytes;
    long p5 = p4 + rowBytes;
    long p6 = p5 + rowBytes;
    long p7 = p6 + rowBytes;
    final int quads = in & ~3;
    int k = 0;
    for (; k < quads; k += 4) {
      int wk = base + k * LANES;
      FloatVector w0 = FloatVector.fromArray(SPECIES, w, wk);
      FloatVector w1 = FloatVector.fromArray(SPECIES, w, wk + LANES);
      FloatVector w2 = FloatVector.fromArray(SPECIES, w, wk + 2 * LANES);
      FloatVector w3 = FloatVector.fromArray(SPECIES, w, wk + 3 * LANES);
      a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0)).fma(w0, a0);
      a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1)).fma(w0, a1);
      a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2)).fma(w0, a2);
      a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3)).fma(w0, a3);
      a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4)).fma(w0, a4);
      a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5)).fma(w0, a5);
      a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6)).fma(w0, a6);
      a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7)).fma(w0, a7);
      a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 4)).fma(w1, a0);
      a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 4)).fma(w1, a1);
      a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 4)).fma(w1, a2);
      a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 4)).fma(w1, a3);
      a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 4)).fma(w1, a4);
      a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 4)).fma(w1, a5);
      a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 4)).fma(w1, a6);
      a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 4)).fma(w1, a7);
      a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 8)).fma(w2, a0);
      a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 8)).fma(w2, a1);
      a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 8)).fma(w2, a2);
      a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 8)).fma(w2, a3);
      a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 8)).fma(w2, a4);
      a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 8)).fma(w2, a5);
      a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 8)).fma(w2, a6);
      a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 8)).fma(w2, a7);
      a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0 + 12)).fma(w3, a0);
      a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1 + 12)).fma(w3, a1);
      a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2 + 12)).fma(w3, a2);
      a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3 + 12)).fma(w3, a3);
      a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4 + 12)).fma(w3, a4);
      a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5 + 12)).fma(w3, a5);
      a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6 + 12)).fma(w3, a6);
      a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7 + 12)).fma(w3, a7);
      p0 += 16;
      p1 += 16;
      p2 += 16;
      p3 += 16;
      p4 += 16;
      p5 += 16;
      p6 += 16;
      p7 += 16;
    }
    for (; k < in; k++) {
      FloatVector wk = FloatVector.fromArray(SPECIES, w, base + k * LANES);
      a0 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p0)).fma(wk, a0);
      a1 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p1)).fma(wk, a1);
      a2 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p2)).fma(wk, a2);
      a3 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p3)).fma(wk, a3);
      a4 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p4)).fma(wk, a4);
      a5 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p5)).fma(wk, a5);
      a6 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p6)).fma(wk, a6);
      a7 = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p7)).fma(wk, a7);
      p0 += 4;
      p1 += 4;
      p2 += 4;
      p3 += 4;
      p4 += 4;
      p5 += 4;
      p6 += 4;
      p7 += 4;
    }
    final int out = this.out;
    a0.intoArray(ys, y0);
    a1.intoArray(ys, y0 + out);
    a2.intoArray(ys, y0 + 2 * out);
    a3.intoArray(ys, y0 + 3 * out);
    a4.intoArray(ys, y0 + 4 * out);
    a5.intoArray(ys, y0 + 5 * out);
    a6.intoArray(ys, y0 + 6 * out);
    a7.intoArray(ys, y0 + 7 * out);
  }

  /** One row of {@link #narrow8InPlace}. */
  private void narrow1InPlace(long address, float[] ys, int y0) {
    FloatVector identity = FloatVector.broadcast(SPECIES, -0f);
    FloatVector s = identity;
    long p = address;
    for (int j = 0, from = 0; j < chains; j += 2) {
      FloatVector t = identity;
      for (int pairEnd = Math.min(chains, j + 2), i = j; i < pairEnd; i++, from += chainLength) {
        int to = Math.min(in, from + chainLength);
        FloatVector a = FloatVector.fromArray(SPECIES, i == 0 ? bias : ZEROS, 0);
        for (int k = from; k < to; k++, p += FloatBlock.BYTES) {
          FloatVector wk = FloatVector.fromArray(SPECIES, packed, base + k * LANES);
          a = FloatVector.broadcast(SPECIES, UNSAFE.getFloat(p)).fma(wk, a);
        }
        t = t.add(a);
      }
      s = s.add(t);
    }
    s.intoArray(ys, y0);
  }

  private void narrowTile(float[] xs, float[] ys, int y0, int count) {
    int r = 0;
    for (; r + NARROW_ROWS <= count; r += NARROW_ROWS) {
      narrow8(xs, r * in, ys, y0 + r * out);
    }
    for (; r < count; r++) {
      narrow1(xs, r * in, ys, y0 + r * out);
    }
  }

  /** {@link #narrow8InPlace} on a heap tile of x, not unrolled. */
  private void narrow8(float[] xs, int x0, float[] ys, int y0) {
    if (chains == 1) {
      narrow8OneChain(xs, x0, ys, y0);
      return;
    }
    final int in = this.in;
    final float[] w = packed;
    FloatVector identity = FloatVector.broadcast(SPECIES, -0f);
    FloatVector s0 = identity, s1 = identity, s2 = identity, s3 = identity;
    FloatVector s4 = identity, s5 = identity, s6 = identity, s7 = identity;
    for (int j = 0, from = 0; j < chains; j += 2) {
      FloatVector t0 = identity, t1 = identity, t2 = identity, t3 = identity;
      FloatVector t4 = identity, t5 = identity, t6 = identity, t7 = identity;
      for (int pairEnd = Math.min(chains, j + 2), i = j; i < pairEnd; i++, from += chainLength) {
        int to = Math.min(in, from + chainLength);
        FloatVector b = FloatVector.fromArray(SPECIES, i == 0 ? bias : ZEROS, 0);
        FloatVector a0 = b;
        FloatVector a1 = b;
        FloatVector a2 = b;
        FloatVector a3 = b;
        FloatVector a4 = b;
        FloatVector a5 = b;
        FloatVector a6 = b;
        FloatVector a7 = b;
        for (int k = from; k < to; k++) {
          FloatVector wk = FloatVector.fromArray(SPECIES, w, base + k * LANES);
          int xk = x0 + k;
          a0 = FloatVector.broadcast(SPECIES, xs[xk]).fma(wk, a0);
          a1 = FloatVector.broadcast(SPECIES, xs[xk + in]).fma(wk, a1);
          a2 = FloatVector.broadcast(SPECIES, xs[xk + 2 * in]).fma(wk, a2);
          a3 = FloatVector.broadcast(SPECIES, xs[xk + 3 * in]).fma(wk, a3);
          a4 = FloatVector.broadcast(SPECIES, xs[xk + 4 * in]).fma(wk, a4);
          a5 = FloatVector.broadcast(SPECIES, xs[xk + 5 * in]).fma(wk, a5);
          a6 = FloatVector.broadcast(SPECIES, xs[xk + 6 * in]).fma(wk, a6);
          a7 = FloatVector.broadcast(SPECIES, xs[xk + 7 * in]).fma(wk, a7);
        }
        t0 = t0.add(a0);
        t1 = t1.add(a1);
        t2 = t2.add(a2);
        t3 = t3.add(a3);
        t4 = t4.add(a4);
        t5 = t5.add(a5);
        t6 = t6.add(a6);
        t7 = t7.add(a7);
      }
      s0 = s0.add(t0);
      s1 = s1.add(t1);
      s2 = s2.add(t2);
      s3 = s3.add(t3);
      s4 = s4.add(t4);
      s5 = s5.add(t5);
      s6 = s6.add(t6);
      s7 = s7.add(t7);
    }
    // In row order: each store's lanes past `out` are overwritten by the next row's store.
    final int out = this.out;
    s0.intoArray(ys, y0);
    s1.intoArray(ys, y0 + out);
    s2.intoArray(ys, y0 + 2 * out);
    s3.intoArray(ys, y0 + 3 * out);
    s4.intoArray(ys, y0 + 4 * out);
    s5.intoArray(ys, y0 + 5 * out);
    s6.intoArray(ys, y0 + 6 * out);
    s7.intoArray(ys, y0 + 7 * out);
  }

  /** {@link #narrow8} for layers of one chain, as {@link #narrow8InPlaceOneChain}. */
  private void narrow8OneChain(float[] xs, int x0, float[] ys, int y0) {
    final int in = this.in;
    final float[] w = packed;
    FloatVector b = FloatVector.fromArray(SPECIES, bias, 0);
    FloatVector a0 = b;
    FloatVector a1 = b;
    FloatVector a2 = b;
    FloatVector a3 = b;
    FloatVector a4 = b;
    FloatVector a5 = b;
    FloatVector a6 = b;
    FloatVector a7 = b;
    for (int k = 0; k < in; k++) {
      FloatVector wk = FloatVector.fromArray(SPECIES, w, base + k * LANES);
      int xk = x0 + k;
      a0 = FloatVector.broadcast(SPECIES, xs[xk]).fma(wk, a0);
      a1 = FloatVector.broadcast(SPECIES, xs[xk + in]).fma(wk, a1);
      a2 = FloatVector.broadcast(SPECIES, xs[xk + 2 * in]).fma(wk, a2);
      a3 = FloatVector.broadcast(SPECIES, xs[xk + 3 * in]).fma(wk, a3);
      a4 = FloatVector.broadcast(SPECIES, xs[xk + 4 * in]).fma(wk, a4);
      a5 = FloatVector.broadcast(SPECIES, xs[xk + 5 * in]).fma(wk, a5);
      a6 = FloatVector.broadcast(SPECIES, xs[xk + 6 * in]).fma(wk, a6);
      a7 = FloatVector.broadcast(SPECIES, xs[xk + 7 * in]).fma(wk, a7);
    }
    // In row order: each store's lanes past `out` are overwritten by the next row's store.
    final int out = this.out;
    a0.intoArray(ys, y0);
    a1.intoArray(ys, y0 + out);
    a2.intoArray(ys, y0 + 2 * out);
    a3.intoArray(ys, y0 + 3 * out);
    a4.intoArray(ys, y0 + 4 * out);
    a5.intoArray(ys, y0 + 5 * out);
    a6.intoArray(ys, y0 + 6 * out);
    a7.intoArray(ys, y0 + 7 * out);
  }

  private void narrow1(float[] xs, int x0, float[] ys, int y0) {
    FloatVector identity = FloatVector.broadcast(SPECIES, -0f);
    FloatVector s = identity;
    for (int j = 0, from = 0; j < chains; j += 2) {
      FloatVector t = identity;
      for (int pairEnd = Math.min(chains, j + 2), i = j; i < pairEnd; i++, from += chainLength) {
        int to = Math.min(in, from + chainLength);
        FloatVector a = FloatVector.fromArray(SPECIES, i == 0 ? bias : ZEROS, 0);
        for (int k = from; k < to; k++) {
          FloatVector wk = FloatVector.fromArray(SPECIES, packed, base + k * LANES);
          a = FloatVector.broadcast(SPECIES, xs[x0 + k]).fma(wk, a);
        }
        t = t.add(a);
      }
      s = s.add(t);
    }
    s.intoArray(ys, y0);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // General layers: out > LANES.

  /**
   * The general kernel on a tile of {@code count} rows, into the y tile from {@code ys[y0]}, with the partial sums from
   * {@code part[p0]}. Where outputs are summed in more than one chain, lanes of the combined sums below {@code floor}
   * are stored as zero: 0 fuses ReLU, negative infinity changes nothing.
   */
  private void generalTile(float[] xs, float[] ys, int y0, int count, float[] part, int p0, float floor) {
    // Panel outer, rows inner: one packed panel (in * PANEL floats) is reused by every row of the tile while it is in
    // cache, and the tile of x (TILE_VALUES floats) is re-read once per panel.
    for (int o = 0; o < out; o += PANEL) {
      int w0 = base + (o / PANEL) * in * PANEL;
      int width = Math.min(PANEL, out - o);
      if (width == PANEL) {
        int r = 0;
        for (; r + ROWS <= count; r += ROWS) {
          rows4Panel(xs, r * in, ys, y0 + r * out + o, w0, o, part, p0, floor);
        }
        for (; r < count; r++) {
          row1Panel(xs, r * in, ys, y0 + r * out + o, w0, o, part, p0, floor);
        }
      } else {
        for (int v = 0; v < width; v += LANES) {
          int limit = Math.min(LANES, width - v);
          int r = 0;
          for (; r + ROWS <= count; r += ROWS) {
            rows4Vector(xs, r * in, ys, y0 + r * out + o + v, w0 + v, o + v, limit, part, p0, floor);
          }
          for (; r < count; r++) {
            row1Vector(xs, r * in, ys, y0 + r * out + o + v, w0 + v, o + v, limit, part, p0, floor);
          }
        }
      }
    }
  }

  /*
   * Each of the four micro-kernels below runs one chain; these wrappers run every chain of an output (straight into
   * the y tile when there is one) and combine them. Partial sums are laid out [chain][row][vector of the panel].
   */

  private void rows4Panel(float[] xs, int x0, float[] ys, int y0, int w0, int b0, float[] part, int p0, float floor) {
    if (chains == 1) {
      tile4x4(xs, x0, ys, y0, w0, b0);
      return;
    }
    for (int j = 0, from = 0; j < chains; j++, from += chainLength) {
      chain4x4(xs, x0 + from, x0 + Math.min(in, from + chainLength), w0 + from * PANEL, j == 0, b0, part,
          p0 + j * ROWS * PANEL);
    }
    for (int i = 0; i < ROWS; i++) {
      for (int v = 0; v < PANEL; v += LANES) {
        store(combine(part, p0 + i * PANEL + v, ROWS * PANEL), ys, y0 + i * out + v, LANES, floor);
      }
    }
  }

  private void row1Panel(float[] xs, int x0, float[] ys, int y0, int w0, int b0, float[] part, int p0, float floor) {
    if (chains == 1) {
      tile1x4(xs, x0, 0, in, w0, b0, true, ys, y0);
      return;
    }
    for (int j = 0, from = 0; j < chains; j++, from += chainLength) {
      tile1x4(xs, x0, from, Math.min(in, from + chainLength), w0, b0, j == 0, part, p0 + j * ROWS * PANEL);
    }
    for (int v = 0; v < PANEL; v += LANES) {
      store(combine(part, p0 + v, ROWS * PANEL), ys, y0 + v, LANES, floor);
    }
  }

  private void rows4Vector(float[] xs, int x0, float[] ys, int y0, int w0, int b0, int limit, float[] part, int p0,
      float floor) {
    if (chains == 1) {
      tile4x1(xs, x0, 0, in, w0, b0, true, ys, y0, out, limit);
      return;
    }
    for (int j = 0, from = 0; j < chains; j++, from += chainLength) {
      tile4x1(xs, x0, from, Math.min(in, from + chainLength), w0, b0, j == 0, part, p0 + j * ROWS * PANEL, PANEL,
          LANES);
    }
    for (int i = 0; i < ROWS; i++) {
      store(combine(part, p0 + i * PANEL, ROWS * PANEL), ys, y0 + i * out, limit, floor);
    }
  }

  private void row1Vector(float[] xs, int x0, float[] ys, int y0, int w0, int b0, int limit, float[] part, int p0,
      float floor) {
    if (chains == 1) {
      tile1x1(xs, x0, 0, in, w0, b0, true, ys, y0, limit);
      return;
    }
    for (int j = 0, from = 0; j < chains; j++, from += chainLength) {
      tile1x1(xs, x0, from, Math.min(in, from + chainLength), w0, b0, j == 0, part, p0 + j * ROWS * PANEL, LANES);
    }
    store(combine(part, p0, ROWS * PANEL), ys, y0, limit, floor);
  }

  /**
   * A layer of one chain: four rows of x at {@code xs[x0]} and the four vectors of outputs of the panel at
   * {@code packed[w0]}, stored straight into the y tile at {@code ys[y0]}.
   */
  private void tile4x4(float[] xs, int x0, float[] ys, int y0, int w0, int b0) {
    final int in = this.in;
    final float[] w = packed;
    FloatVector b0v = FloatVector.fromArray(SPECIES, bias, b0);
    FloatVector b1v = FloatVector.fromArray(SPECIES, bias, b0 + LANES);
    FloatVector b2v = FloatVector.fromArray(SPECIES, bias, b0 + 2 * LANES);
    FloatVector b3v = FloatVector.fromArray(SPECIES, bias, b0 + 3 * LANES);
    FloatVector c00 = b0v, c01 = b1v, c02 = b2v, c03 = b3v;
    FloatVector c10 = b0v, c11 = b1v, c12 = b2v, c13 = b3v;
    FloatVector c20 = b0v, c21 = b1v, c22 = b2v, c23 = b3v;
    FloatVector c30 = b0v, c31 = b1v, c32 = b2v, c33 = b3v;
    int wk = w0;
    for (int k = 0; k < in; k++, wk += PANEL) {
      FloatVector w0v = FloatVector.fromArray(SPECIES, w, wk);
      FloatVector w1v = FloatVector.fromArray(SPECIES, w, wk + LANES);
      FloatVector w2v = FloatVector.fromArray(SPECIES, w, wk + 2 * LANES);
      FloatVector w3v = FloatVector.fromArray(SPECIES, w, wk + 3 * LANES);
      int xk = x0 + k;
      FloatVector x0v = FloatVector.broadcast(SPECIES, xs[xk]);
      c00 = x0v.fma(w0v, c00);
      c01 = x0v.fma(w1v, c01);
      c02 = x0v.fma(w2v, c02);
      c03 = x0v.fma(w3v, c03);
      FloatVector x1v = FloatVector.broadcast(SPECIES, xs[xk + in]);
      c10 = x1v.fma(w0v, c10);
      c11 = x1v.fma(w1v, c11);
      c12 = x1v.fma(w2v, c12);
      c13 = x1v.fma(w3v, c13);
      FloatVector x2v = FloatVector.broadcast(SPECIES, xs[xk + 2 * in]);
      c20 = x2v.fma(w0v, c20);
      c21 = x2v.fma(w1v, c21);
      c22 = x2v.fma(w2v, c22);
      c23 = x2v.fma(w3v, c23);
      FloatVector x3v = FloatVector.broadcast(SPECIES, xs[xk + 3 * in]);
      c30 = x3v.fma(w0v, c30);
      c31 = x3v.fma(w1v, c31);
      c32 = x3v.fma(w2v, c32);
      c33 = x3v.fma(w3v, c33);
    }
    final int out = this.out;
    c00.intoArray(ys, y0);
    c01.intoArray(ys, y0 + LANES);
    c02.intoArray(ys, y0 + 2 * LANES);
    c03.intoArray(ys, y0 + 3 * LANES);
    int y1 = y0 + out;
    c10.intoArray(ys, y1);
    c11.intoArray(ys, y1 + LANES);
    c12.intoArray(ys, y1 + 2 * LANES);
    c13.intoArray(ys, y1 + 3 * LANES);
    int y2 = y1 + out;
    c20.intoArray(ys, y2);
    c21.intoArray(ys, y2 + LANES);
    c22.intoArray(ys, y2 + 2 * LANES);
    c23.intoArray(ys, y2 + 3 * LANES);
    int y3 = y2 + out;
    c30.intoArray(ys, y3);
    c31.intoArray(ys, y3 + LANES);
    c32.intoArray(ys, y3 + 2 * LANES);
    c33.intoArray(ys, y3 + 3 * LANES);
  }

  /**
   * One chain of four rows of a panel, into the chain's partial sums at {@code part[d0]} (rows {@code PANEL} apart): x
   * from {@code xs[xk]} up to {@code xs[xEnd]} (row 0; the other rows {@code in} apart), weights from {@code
   * packed[wk]}. Its arguments are positions rather than a chain's bounds and a destination's stride, so that few
   * values live across the loop: with the 16 accumulators' many, C2 kept one of them on the stack and reloaded it
   * every step (seen in the compiled loop), and a 64 -> 256 call took about 5% longer.
   */
  private void chain4x4(float[] xs, int xk, int xEnd, int wk, boolean fromBias, int b0, float[] part, int d0) {
    final int in = this.in;
    final float[] w = packed;
    FloatVector b0v = initial(fromBias, b0);
    FloatVector b1v = initial(fromBias, b0 + LANES);
    FloatVector b2v = initial(fromBias, b0 + 2 * LANES);
    FloatVector b3v = initial(fromBias, b0 + 3 * LANES);
    FloatVector c00 = b0v, c01 = b1v, c02 = b2v, c03 = b3v;
    FloatVector c10 = b0v, c11 = b1v, c12 = b2v, c13 = b3v;
    FloatVector c20 = b0v, c21 = b1v, c22 = b2v, c23 = b3v;
    FloatVector c30 = b0v, c31 = b1v, c32 = b2v, c33 = b3v;
    for (; xk < xEnd; xk++, wk += PANEL) {
      FloatVector w0v = FloatVector.fromArray(SPECIES, w, wk);
      FloatVector w1v = FloatVector.fromArray(SPECIES, w, wk + LANES);
      FloatVector w2v = FloatVector.fromArray(SPECIES, w, wk + 2 * LANES);
      FloatVector w3v = FloatVector.fromArray(SPECIES, w, wk + 3 * LANES);
      FloatVector x0v = FloatVector.broadcast(SPECIES, xs[xk]);
      c00 = x0v.fma(w0v, c00);
      c01 = x0v.fma(w1v, c01);
      c02 = x0v.fma(w2v, c02);
      c03 = x0v.fma(w3v, c03);
      FloatVector x1v = FloatVector.broadcast(SPECIES, xs[xk + in]);
      c10 = x1v.fma(w0v, c10);
      c11 = x1v.fma(w1v, c11);
      c12 = x1v.fma(w2v, c12);
      c13 = x1v.fma(w3v, c13);
      FloatVector x2v = FloatVector.broadcast(SPECIES, xs[xk + 2 * in]);
      c20 = x2v.fma(w0v, c20);
      c21 = x2v.fma(w1v, c21);
      c22 = x2v.fma(w2v, c22);
      c23 = x2v.fma(w3v, c23);
      FloatVector x3v = FloatVector.broadcast(SPECIES, xs[xk + 3 * in]);
      c30 = x3v.fma(w0v, c30);
      c31 = x3v.fma(w1v, c31);
      c32 = x3v.fma(w2v, c32);
      c33 = x3v.fma(w3v, c33);
    }
    c00.intoArray(part, d0);
    c01.intoArray(part, d0 + LANES);
    c02.intoArray(part, d0 + 2 * LANES);
    c03.intoArray(part, d0 + 3 * LANES);
    c10.intoArray(part, d0 + PANEL);
    c11.intoArray(part, d0 + PANEL + LANES);
    c12.intoArray(part, d0 + PANEL + 2 * LANES);
    c13.intoArray(part, d0 + PANEL + 3 * LANES);
    c20.intoArray(part, d0 + 2 * PANEL);
    c21.intoArray(part, d0 + 2 * PANEL + LANES);
    c22.intoArray(part, d0 + 2 * PANEL + 2 * LANES);
    c23.intoArray(part, d0 + 2 * PANEL + 3 * LANES);
    c30.intoArray(part, d0 + 3 * PANEL);
    c31.intoArray(part, d0 + 3 * PANEL + LANES);
    c32.intoArray(part, d0 + 3 * PANEL + 2 * LANES);
    c33.intoArray(part, d0 + 3 * PANEL + 3 * LANES);
  }

  private void tile1x4(float[] xs, int x0, int from, int to, int w0, int b0, boolean fromBias, float[] dst, int d0) {
    final float[] w = packed;
    FloatVector c0 = initial(fromBias, b0);
    FloatVector c1 = initial(fromBias, b0 + LANES);
    FloatVector c2 = initial(fromBias, b0 + 2 * LANES);
    FloatVector c3 = initial(fromBias, b0 + 3 * LANES);
    int wk = w0 + from * PANEL;
    for (int k = from; k < to; k++, wk += PANEL) {
      FloatVector xv = FloatVector.broadcast(SPECIES, xs[x0 + k]);
      c0 = xv.fma(FloatVector.fromArray(SPECIES, w, wk), c0);
      c1 = xv.fma(FloatVector.fromArray(SPECIES, w, wk + LANES), c1);
      c2 = xv.fma(FloatVector.fromArray(SPECIES, w, wk + 2 * LANES), c2);
      c3 = xv.fma(FloatVector.fromArray(SPECIES, w, wk + 3 * LANES), c3);
    }
    c0.intoArray(dst, d0);
    c1.intoArray(dst, d0 + LANES);
    c2.intoArray(dst, d0 + 2 * LANES);
    c3.intoArray(dst, d0 + 3 * LANES);
  }

  /** Four rows of one vector of outputs, of which the first {@code limit} are stored, rows {@code stride} apart. */
  private void tile4x1(float[] xs, int x0, int from, int to, int w0, int b0, boolean fromBias, float[] dst, int d0,
      int stride, int limit) {
    final int in = this.in;
    final float[] w = packed;
    FloatVector bv = initial(fromBias, b0);
    FloatVector c0 = bv;
    FloatVector c1 = bv;
    FloatVector c2 = bv;
    FloatVector c3 = bv;
    int wk = w0 + from * PANEL;
    for (int k = from; k < to; k++, wk += PANEL) {
      FloatVector wv = FloatVector.fromArray(SPECIES, w, wk);
      int xk = x0 + k;
      c0 = FloatVector.broadcast(SPECIES, xs[xk]).fma(wv, c0);
      c1 = FloatVector.broadcast(SPECIES, xs[xk + in]).fma(wv, c1);
      c2 = FloatVector.broadcast(SPECIES, xs[xk + 2 * in]).fma(wv, c2);
      c3 = FloatVector.broadcast(SPECIES, xs[xk + 3 * in]).fma(wv, c3);
    }
    store(c0, dst, d0, limit);
    store(c1, dst, d0 + stride, limit);
    store(c2, dst, d0 + 2 * stride, limit);
    store(c3, dst, d0 + 3 * stride, limit);
  }

  private void tile1x1(float[] xs, int x0, int from, int to, int w0, int b0, boolean fromBias, float[] dst, int d0,
      int limit) {
    FloatVector c = initial(fromBias, b0);
    int wk = w0 + from * PANEL;
    for (int k = from; k < to; k++, wk += PANEL) {
      c = FloatVector.broadcast(SPECIES, xs[x0 + k]).fma(FloatVector.fromArray(SPECIES, packed, wk), c);
    }
    store(c, dst, d0, limit);
  }

  /**
   * The chains' partial sums at {@code part[offset + j * chainStride]}, {@code j < chains} (at least two), combined
   * pairwise: {@code c0 + c1}, {@code (c0 + c1) + c2} or {@code (c0 + c1) + (c2 + c3)}.
   */
  private FloatVector combine(float[] part, int offset, int chainStride) {
    FloatVector s = FloatVector.fromArray(SPECIES, part, offset)
        .add(FloatVector.fromArray(SPECIES, part, offset + chainStride));
    if (chains == 3) {
      s = s.add(FloatVector.fromArray(SPECIES, part, offset + 2 * chainStride));
    } else if (chains == 4) {
      s = s.add(FloatVector.fromArray(SPECIES, part, offset + 2 * chainStride)
          .add(FloatVector.fromArray(SPECIES, part, offset + 3 * chainStride)));
    }
    return s;
  }

  /** A chain's starting value: the bias at {@code bias[offset]} for chain 0, else {@code +0.0}. */
  private FloatVector initial(boolean fromBias, int offset) {
    return fromBias ? FloatVector.fromArray(SPECIES, bias, offset) : FloatVector.zero(SPECIES);
  }

  private static void store(FloatVector v, float[] ys, int offset, int limit) {
    if (limit == LANES) {
      v.intoArray(ys, offset);
    } else {
      VectorMask<Float> mask = SPECIES.indexInRange(0, limit);
      v.intoArray(ys, offset, mask);
    }
  }

  /**
   * {@link #store} with the lanes below {@code floor} replaced by zero: ReLU with a floor of 0 ({@code x < 0} is false
   * for NaN and {@code -0.0}, which pass unchanged, as in {@link #finish}), nothing with negative infinity.
   */
  private static void store(FloatVector v, float[] ys, int offset, int limit, float floor) {
    if (floor == Float.NEGATIVE_INFINITY) {
      // Nothing to clamp: a compare and a blend per vector would take the multiply-adds' ports for nothing.
      store(v, ys, offset, limit);
      return;
    }
    store(v.blend(0f, v.lt(floor)), ys, offset, limit);
  }
}
