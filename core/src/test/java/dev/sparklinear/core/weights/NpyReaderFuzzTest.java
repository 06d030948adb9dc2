package dev.sparklinear.core.weights;

import static dev.sparklinear.core.weights.WeightFuzzing.readOrReject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.WeightFuzzing.Mutation;
import dev.sparklinear.core.weights.WeightFuzzing.Outcome;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based fuzzing of {@link NpyReader} and the header literal parser under it: random bytes, arrays written
 * here and read back, the fixture files damaged, and headers generated from the dict-literal grammar with random
 * values. Every input must be read or rejected with a {@link WeightFileException}, quickly and without allocating
 * what a lying header claims.
 */
class NpyReaderFuzzTest {
  private static final String SOURCE = "fuzz.npy";
  private static final List<String> FIXTURES = List.of("fc_weight_f4.npy", "fc_weight_be_f8.npy", "fc_weight_f2.npy",
      "cube_fortran.npy", "fc_weight_fortran.npy", "fc_weight_v2.npy", "fc_weight_v3.npy", "scalar_f4.npy",
      "empty_f4.npy", "object.npy");
  /** Values that float16, float32 and float64 all hold exactly. */
  private static final float[] EXACT = {0f, 1f, -1f, 0.5f, -2f, 3f, 1024f, -0.25f, 1.5f, 96f};

  /** One array to write: dtype descr, layout, shape and values (indices into {@link #EXACT}), row-major. */
  record ArraySpec(String descr, boolean fortranOrder, int[] shape, int[] values, int major) {}

  // ------------------------------------------------------------------------------------------------ valid files

  @Property(tries = 300)
  void writtenArraysReadBackExactly(@ForAll("arrays") ArraySpec spec) {
    Tensor tensor = NpyReader.read(write(spec), SOURCE);

    assertThat(tensor.shape()).containsExactly(spec.shape());
    float[] expected = new float[spec.values().length];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = EXACT[spec.values()[i]];
    }
    assertThat(tensor.toArray()).containsExactly(expected);
  }

  @Property(tries = 1000)
  void damagedWrittenArraysAreReadOrRejected(
      @ForAll("arrays") ArraySpec spec, @ForAll("mutationLists") List<Mutation> mutations) {
    byte[] file = write(spec);
    for (Mutation mutation : mutations) {
      file = mutation.apply(file);
    }
    Statistics.collect(readOrReject(SOURCE, read(file)));
  }

  @Property(tries = 1000)
  void damagedFixturesAreReadOrRejected(
      @ForAll("fixtures") String fixture, @ForAll("mutationLists") List<Mutation> mutations) {
    byte[] file = Fixtures.bytes(fixture);
    for (Mutation mutation : mutations) {
      file = mutation.apply(file);
    }
    Statistics.collect(readOrReject(SOURCE, read(file)));
  }

  // ------------------------------------------------------------------------------------------------ random input

  @Property(tries = 500)
  void randomBytesAreRejected(@ForAll @Size(max = 300) byte[] bytes) {
    assertThat(readOrReject(SOURCE, read(bytes))).isEqualTo(Outcome.REJECTED);
  }

  @Property(tries = 500)
  void randomBytesAfterTheMagicAreReadOrRejected(
      @ForAll @IntRange(max = 4) int major, @ForAll @IntRange(max = 1) int minor,
      @ForAll @Size(max = 300) byte[] rest) {
    byte[] file = new byte[8 + rest.length];
    System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, (byte) minor}, 0, file, 0, 8);
    System.arraycopy(rest, 0, file, 8, rest.length);
    readOrReject(SOURCE, read(file));
  }

  @Property(tries = 2000)
  void randomHeaderLiteralsAreReadOrRejected(
      @ForAll("headerLiterals") String header, @ForAll @IntRange(min = 1, max = 3) int major,
      @ForAll @Size(max = 128) byte[] data) {
    byte[] encoded = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Statistics.collect(readOrReject(SOURCE, read(NpyReaderTest.npy(major, encoded, data))));
  }

  @Property(tries = 300)
  void hugeShapesFailFastWithoutAllocating(
      @ForAll("hugeShapes") List<Long> shape, @ForAll("floatDescrs") String descr) {
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': ("
        + shape.stream().map(String::valueOf).collect(Collectors.joining(", ")) + "), }";
    assertThat(readOrReject(SOURCE, read(NpyReaderTest.npy(1, header, new byte[16])))).isEqualTo(Outcome.REJECTED);
  }

  @Example
  void anArrayOfTwoToTheSixtyElementsIsRejectedNamingTheShape() {
    byte[] file = NpyReaderTest.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }",
        new byte[0]);
    assertThatThrownBy(() -> NpyReader.read(file, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header's shape [1073741824, 1073741824] has more values than one Java array holds");
  }

  @Example
  void theWriterWritesWhatNumpyWrites() {
    // The writer is test code: pin it down against a file numpy.save wrote. NumPy pads its header with spaces and a
    // newline so that the data starts at a multiple of 64 (it leaves more room than we do, which readers ignore).
    byte[] numpy = Fixtures.bytes("fc_weight_f4.npy");
    byte[] ours = write(new ArraySpec("<f4", false, new int[] {3, 4}, new int[12], 1));
    assertThat(headerOf(ours).strip()).isEqualTo(headerOf(numpy).strip());
    assertThat(headerOf(ours)).endsWith("\n");
    assertThat((10 + headerOf(ours).length()) % 64).isZero();
    assertThat(ours.length - 10 - headerOf(ours).length()).isEqualTo(numpy.length - 10 - headerOf(numpy).length());
  }

  private static String headerOf(byte[] version1File) {
    int length = ByteBuffer.wrap(version1File).order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffff;
    return new String(version1File, 10, length, StandardCharsets.ISO_8859_1);
  }

  // ------------------------------------------------------------------------------------------------ generators

  @Provide
  Arbitrary<ArraySpec> arrays() {
    Arbitrary<String> descr = Arbitraries.of("<f4", ">f4", "<f8", ">f8", "<f2", ">f2");
    Arbitrary<int[]> shape = Arbitraries.integers().between(0, 4).array(int[].class).ofMaxSize(3);
    return Combinators.combine(descr, Arbitraries.of(true, false), shape,
            Arbitraries.integers().between(0, EXACT.length - 1).array(int[].class).ofSize(64),
            Arbitraries.integers().between(1, 3))
        .as((d, fortran, s, pool, major) -> new ArraySpec(d, fortran, s, Arrays.copyOf(pool, numel(s)), major));
  }

  @Provide
  Arbitrary<List<Mutation>> mutationLists() {
    return WeightFuzzing.mutations().list().ofMinSize(1).ofMaxSize(4);
  }

  @Provide
  Arbitrary<String> fixtures() {
    return Arbitraries.of(FIXTURES);
  }

  @Provide
  Arbitrary<String> floatDescrs() {
    return Arbitraries.of("<f4", ">f8", "<f2", "=f4", "|f8");
  }

  @Provide
  Arbitrary<List<Long>> hugeShapes() {
    Arbitrary<Long> big = Arbitraries.longs().between(1L << 16, Integer.MAX_VALUE);
    return big.list().ofMinSize(2).ofMaxSize(4);
  }

  /**
   * Header literals from the grammar the parser reads: a dict with quoted keys (the three real ones, others,
   * duplicates) and values of every kind it knows, nested, with random spacing; sometimes a random string instead.
   */
  @Provide
  Arbitrary<String> headerLiterals() {
    Arbitrary<String> key = Arbitraries.oneOf(
        Arbitraries.of("'descr'", "'fortran_order'", "'shape'", "\"descr\"", "\"shape\"", "'extra'", "''"),
        Arbitraries.strings().ofMaxLength(4).map(s -> "'" + s + "'"));
    Arbitrary<String> value = literal(3);
    Arbitrary<String> space = Arbitraries.of("", " ", "  ", "\n", "\t");
    Arbitrary<String> entry = Combinators.combine(key, space, value, space)
        .as((k, s1, v, s2) -> k + s1 + ":" + s2 + v);
    Arbitrary<String> realEntries = Combinators.combine(
            descrValues(), literal(1), shapes(), Arbitraries.of(true, false))
        .as((d, f, s, flag) -> "'descr': " + d + ", 'fortran_order': " + (flag ? "False" : f) + ", 'shape': " + s);
    Arbitrary<String> dict = Combinators.combine(
            realEntries.optional(), entry.list().ofMaxSize(3), Arbitraries.of(",", ", ", ""), space)
        .as((real, extra, trailing, pad) -> {
          List<String> entries = new ArrayList<>();
          real.ifPresent(entries::add);
          entries.addAll(extra);
          return "{" + String.join(", ", entries) + trailing + "}" + pad;
        });
    return Arbitraries.frequencyOf(
        Tuple.of(10, dict),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(40)),
        Tuple.of(1, Arbitraries.strings().withChars("{}()[]'\",: -0123456789TrueFalsNo").ofMaxLength(60)));
  }

  private Arbitrary<String> descrValues() {
    return Arbitraries.oneOf(
        Arbitraries.of("'<f4'", "'>f8'", "'<f2'", "'=f4'", "'|f4'", "'f4'", "'|O'", "'O'", "'<i8'", "'|u1'", "'<c8'",
            "'<U3'", "''", "'<'", "[('a', '<f4')]", "None", "4"),
        Arbitraries.strings().withChars("<>=|fOiuc2481").ofMaxLength(4).map(s -> "'" + s + "'"));
  }

  private Arbitrary<String> shapes() {
    Arbitrary<String> dim = Arbitraries.oneOf(
        Arbitraries.integers().between(0, 5).map(String::valueOf), WeightFuzzing.edgeNumbers());
    return Arbitraries.oneOf(
        dim.list().ofMaxSize(4).map(dims -> dims.size() == 1
            ? "(" + dims.get(0) + ",)" : "(" + String.join(", ", dims) + ")"),
        dim.list().ofMaxSize(3).map(dims -> "[" + String.join(", ", dims) + "]"),
        literal(2));
  }

  /** Python literal values, nested at most {@code depth} deep. */
  private Arbitrary<String> literal(int depth) {
    Arbitrary<String> scalar = Arbitraries.oneOf(
        Arbitraries.of("True", "False", "None", "'<f4'", "'|O'", "\"x\"", "''", "3L", "+7", "-0", "1.5", "'a\\n'",
            "Tru", "'open"),
        WeightFuzzing.edgeNumbers(),
        Arbitraries.strings().ofMaxLength(5).map(s -> "'" + s + "'"));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<String> inner = literal(depth - 1);
    return Arbitraries.frequencyOf(
        Tuple.of(4, scalar),
        Tuple.of(1, inner.list().ofMaxSize(3).map(items -> "(" + String.join(", ", items) + ")")),
        Tuple.of(1, inner.list().ofMaxSize(3).map(items -> "[" + String.join(", ", items) + "]")),
        Tuple.of(1, inner.map(item -> "(" + item + ",)")));
  }

  // ------------------------------------------------------------------------------------------------ the writer

  /** Writes {@code spec} as numpy.save does: the header padded with spaces and a newline to a multiple of 64. */
  static byte[] write(ArraySpec spec) {
    String shape = spec.shape().length == 1 ? "(" + spec.shape()[0] + ",)"
        : Arrays.stream(spec.shape()).mapToObj(String::valueOf).collect(Collectors.joining(", ", "(", ")"));
    String dict = "{'descr': '" + spec.descr() + "', 'fortran_order': " + (spec.fortranOrder() ? "True" : "False")
        + ", 'shape': " + shape + ", }";
    int prefix = 6 + 2 + (spec.major() == 1 ? 2 : 4);
    int total = prefix + dict.length() + 1;
    String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";

    ByteOrder order = spec.descr().startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    int itemSize = Integer.parseInt(spec.descr().substring(2));
    ByteBuffer data = ByteBuffer.allocate(spec.values().length * itemSize).order(order);
    for (int rowMajor : fileOrder(spec)) {
      float value = EXACT[spec.values()[rowMajor]];
      switch (itemSize) {
        case 4 -> data.putFloat(value);
        case 8 -> data.putDouble(value);
        default -> data.putShort(half(value));
      }
    }
    return NpyReaderTest.npy(spec.major(), header.getBytes(StandardCharsets.ISO_8859_1), data.array());
  }

  /** The row-major index of each element in the order the file stores them (column-major when Fortran order). */
  private static int[] fileOrder(ArraySpec spec) {
    int[] shape = spec.shape();
    int n = numel(shape);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      if (!spec.fortranOrder()) {
        order[i] = i;
        continue;
      }
      // Column-major: the first index varies fastest. Take i apart into indices, then put them together row-major.
      int rest = i;
      int[] index = new int[shape.length];
      for (int d = 0; d < shape.length; d++) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      int rowMajor = 0;
      for (int d = 0; d < shape.length; d++) {
        rowMajor = rowMajor * shape[d] + index[d];
      }
      order[i] = rowMajor;
    }
    return order;
  }

  /** float16 bits of {@code value}, which must be one of {@link #EXACT}. */
  private static short half(float value) {
    int bits = Float.floatToIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    return (short) (value == 0f ? sign : sign | ((((bits >>> 23) & 0xff) - 127 + 15) << 10) | ((bits >>> 13) & 0x3ff));
  }

  private static int numel(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  private static Supplier<Tensor> read(byte[] file) {
    return () -> NpyReader.read(file, SOURCE);
  }
}
