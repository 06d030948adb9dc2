package dev.sparklinear.core.weights;

import static dev.sparklinear.core.weights.WeightFuzzing.readOrReject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.WeightFuzzing.Mutation;
import dev.sparklinear.core.weights.WeightFuzzing.Outcome;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * Property-based fuzzing of {@link SafetensorsReader}: random bytes, valid files written here from random tensors and
 * then damaged, and headers of random JSON with edge-case numbers. Every input must be read or rejected with a
 * {@link WeightFileException}, quickly and without allocating what a lying header claims.
 */
class SafetensorsReaderFuzzTest {
  private static final String SOURCE = "fuzz.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern NUMBER = Pattern.compile("-?\\d+");
  /** Values that F32, F64, F16 and BF16 all hold exactly, so a round trip can be compared exactly. */
  private static final float[] EXACT = {0f, 1f, -1f, 0.5f, -2f, 3f, 1024f, -0.25f, 1.5f, 96f};

  /** One tensor to write: its name, dtype, shape and values (indices into {@link #EXACT}). */
  record TensorSpec(String name, String dtype, int[] shape, int[] values) {
    int numel() {
      int n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }
  }

  // ------------------------------------------------------------------------------------------------ valid files

  @Property(tries = 200)
  void writtenFilesReadBackExactly(@ForAll("tensorLists") List<TensorSpec> specs) {
    SafetensorsFile file = SafetensorsReader.read(write(specs, Map.of("format", "pt")), SOURCE);

    assertThat(file.tensors().keySet()).containsExactlyElementsOf(specs.stream().map(TensorSpec::name).toList());
    assertThat(file.metadata()).containsExactly(Map.entry("format", "pt"));
    for (TensorSpec spec : specs) {
      Tensor tensor = file.tensor(spec.name());
      assertThat(tensor.shape()).containsExactly(spec.shape());
      float[] expected = new float[spec.values().length];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = EXACT[spec.values()[i]];
      }
      assertThat(tensor.toArray()).containsExactly(expected);
    }
  }

  @Property(tries = 1000)
  void damagedFilesAreReadOrRejected(
      @ForAll("tensorLists") List<TensorSpec> specs, @ForAll("mutationLists") List<Mutation> mutations) {
    byte[] file = write(specs, Map.of());
    for (Mutation mutation : mutations) {
      file = mutation.apply(file);
    }
    Statistics.collect(readOrReject(SOURCE, read(file)));
  }

  @Property(tries = 500)
  void damagedHeaderLengthsAreRejected(
      @ForAll("tensorLists") List<TensorSpec> specs, @ForAll("headerLengthMutations") Mutation mutation) {
    byte[] file = write(specs, Map.of());
    byte[] damaged = mutation.apply(file);
    Outcome outcome = readOrReject(SOURCE, read(damaged));
    if (damaged.length == file.length && !Arrays.equals(damaged, file)) {
      // The header length is the only thing changed, and every byte of the file is accounted for: it cannot fit.
      assertThat(outcome).isEqualTo(Outcome.REJECTED);
    }
  }

  @Property(tries = 1000)
  void headerNumbersReplacedByEdgeNumbersAreReadOrRejected(
      @ForAll("tensorLists") List<TensorSpec> specs,
      @ForAll @IntRange(max = 1000) int which,
      @ForAll("edgeNumbers") String number,
      @ForAll @IntRange(min = -8, max = 8) int dataChange) {
    byte[] file = write(specs, Map.of());
    int headerLength = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
    String header = new String(file, 8, headerLength, StandardCharsets.UTF_8);
    byte[] data = Arrays.copyOfRange(file, 8 + headerLength, file.length);
    Matcher matcher = NUMBER.matcher(header);
    List<int[]> spans = new ArrayList<>();
    while (matcher.find()) {
      spans.add(new int[] {matcher.start(), matcher.end()});
    }
    String changed = header;
    if (!spans.isEmpty()) {
      int[] span = spans.get(which % spans.size());
      changed = header.substring(0, span[0]) + number + header.substring(span[1]);
    }
    byte[] resized = Arrays.copyOf(data, Math.max(0, data.length + dataChange));
    Statistics.collect(readOrReject(SOURCE, read(SafetensorsReaderTest.file(changed, resized))));
  }

  // ------------------------------------------------------------------------------------------------ random input

  @Property(tries = 500)
  void randomBytesAreReadOrRejected(@ForAll @Size(max = 600) byte[] bytes) {
    readOrReject(SOURCE, read(bytes));
  }

  @Property(tries = 500)
  void randomBytesAfterAPlausibleHeaderLengthAreRejected(
      @ForAll @Size(max = 600) byte[] rest, @ForAll @IntRange(max = 700) int headerLength) {
    byte[] file = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(headerLength).put(rest).array();
    readOrReject(SOURCE, read(file));
  }

  @Property(tries = 1500)
  void randomHeadersAreReadOrRejected(
      @ForAll("headers") String header, @ForAll @Size(max = 256) byte[] data) {
    Statistics.collect(readOrReject(SOURCE, read(SafetensorsReaderTest.file(header, data))));
  }

  @Property(tries = 300)
  void hugeShapesFailFastWithoutAllocating(
      @ForAll("hugeShapes") List<Long> shape, @ForAll("dtypes") String dtype, @ForAll boolean offsetsMatchShape) {
    long numel = 1;
    for (long dim : shape) {
      numel = multiplySaturated(numel, dim);
    }
    long end = offsetsMatchShape ? multiplySaturated(numel, 8) : 1L << 40;
    String header = "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[0," + end + "]}}";

    assertThat(readOrReject(SOURCE, read(SafetensorsReaderTest.file(header, new byte[16]))))
        .isEqualTo(Outcome.REJECTED);
  }

  @Example
  void aHeaderOfTwoToTheSixtyElementsIsRejectedNamingTheShape() {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824],\"data_offsets\":[0,"
        + Long.MAX_VALUE + "]}}";
    assertThatThrownBy(() -> SafetensorsReader.read(SafetensorsReaderTest.file(header, new byte[0]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'w' has shape [1073741824, 1073741824], more values than one Java array holds");
  }

  // ------------------------------------------------------------------------------------------------ generators

  @Provide
  Arbitrary<List<TensorSpec>> tensorLists() {
    Arbitrary<int[]> shapes = Arbitraries.integers().between(0, 4).array(int[].class).ofMaxSize(3);
    Arbitrary<TensorSpec> tensors = Combinators.combine(
            Arbitraries.strings().withChars("abcfw._0123").ofMinLength(1).ofMaxLength(6),
            Arbitraries.of("F32", "F64", "F16", "BF16"),
            shapes,
            Arbitraries.integers().between(0, EXACT.length - 1).array(int[].class).ofSize(64))
        .as((name, dtype, shape, pool) -> {
          TensorSpec spec = new TensorSpec(name, dtype, shape, new int[0]);
          return new TensorSpec(name, dtype, shape, Arrays.copyOf(pool, spec.numel()));
        });
    return tensors.list().ofMaxSize(4).uniqueElements(TensorSpec::name);
  }

  @Provide
  Arbitrary<List<Mutation>> mutationLists() {
    return WeightFuzzing.mutations().list().ofMinSize(1).ofMaxSize(4);
  }

  @Provide
  Arbitrary<Mutation> headerLengthMutations() {
    return WeightFuzzing.mutationsWithin(8).filter(m -> m.kind().equals("flip-bit") || m.kind().equals("set-byte"));
  }

  @Provide
  Arbitrary<String> edgeNumbers() {
    return WeightFuzzing.edgeNumbers();
  }

  @Provide
  Arbitrary<String> dtypes() {
    return Arbitraries.of("F32", "F64", "F16", "BF16");
  }

  @Provide
  Arbitrary<List<Long>> hugeShapes() {
    // At least one dimension of 2^16 or more, and enough of them that the product passes 2^31.
    Arbitrary<Long> big = Arbitraries.longs().between(1L << 16, Integer.MAX_VALUE);
    return big.list().ofMinSize(2).ofMaxSize(4)
        .filter(dims -> dims.stream().reduce(1L, SafetensorsReaderFuzzTest::multiplySaturated) > Integer.MAX_VALUE);
  }

  /** JSON headers: mostly well-formed objects of entries with random fields, sometimes any JSON value at all. */
  @Provide
  Arbitrary<String> headers() {
    Arbitrary<String> number = WeightFuzzing.edgeNumbers();
    Arbitrary<String> dtype = Arbitraries.oneOf(
        Arbitraries.of("\"F32\"", "\"F64\"", "\"F16\"", "\"BF16\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"f32\"", "\"\"",
            "null", "32", "[]", "{}"),
        Arbitraries.strings().ofMaxLength(5).map(SafetensorsReaderFuzzTest::jsonString));
    Arbitrary<String> numberArray = number.list().ofMaxSize(4).map(SafetensorsReaderFuzzTest::jsonArray);
    Arbitrary<String> smallArray = Arbitraries.integers().between(-2, 24).map(Object::toString).list().ofMaxSize(3)
        .map(SafetensorsReaderFuzzTest::jsonArray);
    Arbitrary<String> anyValue = Arbitraries.oneOf(number, dtype, numberArray, Arbitraries.of("true", "null", "{}"));
    Arbitrary<String> shape = Arbitraries.frequencyOf(
        Tuple.of(3, smallArray), Tuple.of(2, numberArray), Tuple.of(1, anyValue));
    Arbitrary<String> offsets = Arbitraries.frequencyOf(
        Tuple.of(3, smallArray), Tuple.of(2, numberArray), Tuple.of(1, anyValue));
    Arbitrary<String> field = Arbitraries.oneOf(
        dtype.map(v -> "\"dtype\":" + v),
        shape.map(v -> "\"shape\":" + v),
        offsets.map(v -> "\"data_offsets\":" + v),
        anyValue.map(v -> "\"extra\":" + v));
    Arbitrary<String> entryBody = Arbitraries.oneOf(
        Combinators.combine(dtype, shape, offsets)
            .as((d, s, o) -> "{\"dtype\":" + d + ",\"shape\":" + s + ",\"data_offsets\":" + o + "}"),
        field.list().ofMaxSize(4).map(fields -> "{" + String.join(",", fields) + "}"),
        anyValue);
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.of("w", "b", "fc.weight", "__metadata__", ""),
        Arbitraries.strings().ofMaxLength(4));
    Arbitrary<String> metadata = Arbitraries.oneOf(
        Arbitraries.of("{}", "{\"format\":\"pt\"}", "{\"n\":1}", "null", "[]", "\"pt\""), anyValue);
    Arbitrary<String> entry = Arbitraries.oneOf(
        Combinators.combine(name, entryBody).as((n, b) -> jsonString(n) + ":" + b),
        metadata.map(m -> "\"__metadata__\":" + m));
    Arbitrary<String> objects = entry.list().ofMaxSize(4).map(entries -> "{" + String.join(",", entries) + "}");
    return Arbitraries.frequencyOf(
        Tuple.of(8, objects),
        Tuple.of(1, anyValue),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(40)));
  }

  // ------------------------------------------------------------------------------------------------ the writer

  /** Writes {@code specs} as safetensors does: header JSON, data in order, tensors back to back. */
  static byte[] write(List<TensorSpec> specs, Map<String, String> metadata) {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (TensorSpec spec : specs) {
      long begin = data.size();
      for (int index : spec.values()) {
        data.writeBytes(encode(EXACT[index], spec.dtype()));
      }
      ObjectNode entry = header.putObject(spec.name());
      entry.put("dtype", spec.dtype());
      ArrayNode shape = entry.putArray("shape");
      for (int dim : spec.shape()) {
        shape.add(dim);
      }
      entry.putArray("data_offsets").add(begin).add(data.size());
    }
    return SafetensorsReaderTest.file(header.toString(), data.toByteArray());
  }

  /** Little-endian bytes of {@code value}, which must be one of {@link #EXACT}. */
  private static byte[] encode(float value, String dtype) {
    ByteBuffer out = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    int bits = Float.floatToIntBits(value);
    switch (dtype) {
      case "F32" -> out.putFloat(value);
      case "F64" -> out.putDouble(value);
      case "BF16" -> out.putShort((short) (bits >>> 16));
      case "F16" -> {
        int sign = (bits >>> 16) & 0x8000;
        int half = value == 0f ? sign : sign | ((((bits >>> 23) & 0xff) - 127 + 15) << 10) | ((bits >>> 13) & 0x3ff);
        out.putShort((short) half);
      }
      default -> throw new IllegalArgumentException(dtype);
    }
    return Arrays.copyOf(out.array(), out.position());
  }

  private static Supplier<SafetensorsFile> read(byte[] file) {
    return () -> SafetensorsReader.read(file, SOURCE);
  }

  private static String jsonString(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String jsonArray(List<String> items) {
    return "[" + String.join(",", items) + "]";
  }

  private static long multiplySaturated(long a, long b) {
    long high = Math.multiplyHigh(a, b);
    long low = a * b;
    return high == 0 && low >= 0 ? low : Long.MAX_VALUE;
  }

  @Example
  void theWriterWritesWhatTheReaderReads() {
    // The writer is test code; one fixed case pins it down against a hand-computed file.
    byte[] file = write(List.of(new TensorSpec("w", "F16", new int[] {2}, new int[] {1, 2})), Map.of());
    String header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}";
    assertThat(file).isEqualTo(SafetensorsReaderTest.file(header, new byte[] {0x00, 0x3c, 0x00, (byte) 0xbc}));
  }
}
