package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsWriterTest {

  private static Map<String, Tensor> map(Object... nameThenTensor) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < nameThenTensor.length; i += 2) {
      out.put((String) nameThenTensor[i], (Tensor) nameThenTensor[i + 1]);
    }
    return out;
  }

  private static long headerLength(byte[] file) {
    return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  private static String header(byte[] file) {
    return new String(file, 8, (int) headerLength(file), StandardCharsets.UTF_8);
  }

  private static byte[] resource(String path) {
    try (InputStream in = SafetensorsWriterTest.class.getResourceAsStream(path)) {
      assertThat(in).as("test resource %s", path).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ----------------------------------------------------------------- bytes of the reference implementation

  @Test
  void writesTheModelFileTheSafetensorsLibraryWroteByteForByte() {
    // model_f32.safetensors was written by safetensors 0.8.0's save_file (data/weights/make_weights.py).
    byte[] original = Fixtures.bytes("model_f32.safetensors");
    SafetensorsFile file = SafetensorsReader.read(original, "model_f32.safetensors");

    byte[] written = SafetensorsWriter.toBytes(file.tensors(), file.metadata());

    assertThat(header(written)).isEqualTo(header(original));
    assertThat(written).isEqualTo(original);
  }

  @Test
  void writesTheBytesOfTheLibrarysOwnSerializationTest() {
    // The expected file of the library's test_serialization: one F32 tensor, a header of exactly 64 bytes.
    Tensor attn = Tensor.wrap(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3);

    byte[] written = SafetensorsWriter.toBytes(Map.of("attn.0", attn), null);

    String json = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    assertThat(json).hasSize(64);
    ByteBuffer expected = ByteBuffer.allocate(8 + 64 + 24).order(ByteOrder.LITTLE_ENDIAN);
    expected.putLong(64).put(json.getBytes(StandardCharsets.US_ASCII));
    for (float v : new float[] {0, 1, 2, 3, 4, 5}) {
      expected.putFloat(v);
    }
    assertThat(written).isEqualTo(expected.array());
  }

  @Test
  void padsTheHeaderWithSpacesToEightBytes() {
    // The library's test_serialization_forced_alignement: a 65-byte header padded with 7 spaces.
    byte[] written = SafetensorsWriter.toBytes(Map.of("attn0", Tensor.wrap(new float[6], 1, 1, 2, 3)), null);

    assertThat(headerLength(written)).isEqualTo(72);
    assertThat(header(written))
        .isEqualTo("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ");
    assertThat(written).hasSize(8 + 72 + 24);
  }

  @Test
  void writesAnEmptyFileWithAndWithoutMetadataAsTheLibraryDoes() {
    // The library's test_empty.
    assertThat(SafetensorsWriter.toBytes(Map.of(), null))
        .isEqualTo(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
    byte[] withMetadata = SafetensorsWriter.toBytes(Map.of(), Map.of("framework", "pt"));
    assertThat(headerLength(withMetadata)).isEqualTo(40);
    assertThat(header(withMetadata)).isEqualTo("{\"__metadata__\":{\"framework\":\"pt\"}}     ");
  }

  // ------------------------------------------------------------------------------------------ ordering

  @Test
  void ordersTensorsByDtypeWidestFirstThenByNameWithMetadataFirst() {
    Map<String, Tensor> state = map(
        "weight", Tensor.wrap(new float[] {1, 2, 3, 4}, 2, 2),
        "bias", Tensor.of(5, 6),
        "num_batches_tracked", Tensor.ofLong(1234));

    byte[] written = SafetensorsWriter.toBytes(state, Map.of("format", "pt"));

    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
        + "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
        + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]}}";
    assertThat(header(written).stripTrailing()).isEqualTo(json);
    int data = 8 + (int) headerLength(written);
    ByteBuffer values = ByteBuffer.wrap(written, data, 32).slice().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(values.getLong(0)).isEqualTo(1234);
    float[] floats = new float[6];
    for (int i = 0; i < 6; i++) {
      floats[i] = values.getFloat(8 + 4 * i);
    }
    assertThat(floats).containsExactly(5, 6, 1, 2, 3, 4);
    assertThat(written).hasSize(data + 32);
  }

  @Test
  void comparesNamesAsUtf8BytesAsTheLibraryDoes() {
    // UTF-16 order puts the surrogate pair (U+1F600) before U+FFFF; UTF-8 byte order (the library's) puts it after.
    Map<String, Tensor> state = map(
        "\uD83D\uDE00", Tensor.of(1),
        "\uFFFF", Tensor.of(2),
        "é", Tensor.of(3),
        "a", Tensor.of(4),
        "B", Tensor.of(5));

    SafetensorsFile back = SafetensorsReader.read(SafetensorsWriter.toBytes(state, null), "names");

    assertThat(back.tensors().keySet()).containsExactly("B", "a", "é", "\uFFFF", "\uD83D\uDE00");
    assertThat(back.tensor("\uD83D\uDE00").get(0)).isEqualTo(1f);
  }

  @Test
  void escapesStringsAsTheLibrarysJsonWriterDoes() {
    String name = "a\"b\\c/d\n\t\r\b\f\u0001\u001f\u007f é";

    byte[] written = SafetensorsWriter.toBytes(Map.of(name, Tensor.of(1)), null);

    assertThat(header(written)).startsWith("{\"a\\\"b\\\\c/d\\n\\t\\r\\b\\f\\u0001\\u001f\u007f é\":{");
    assertThat(SafetensorsReader.read(written, "escapes").tensors()).containsOnlyKeys(name);
  }

  // ----------------------------------------------------------------------------------------- round trips

  @Test
  void roundTripsValuesBitForBitIncludingSpecialFloatsAndInt64Extremes() {
    float[] specials = {Float.NaN, Float.intBitsToFloat(0x7fc00123), Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, -0.0f, 0.0f, Float.MIN_VALUE, -Float.MAX_VALUE};
    long[] longs = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 1L << 53 | 1};
    Map<String, Tensor> state = map(
        "specials", Tensor.wrap(specials.clone(), 2, 4),
        "longs", Tensor.wrapLongs(longs.clone(), 3, 2),
        "scalar", Tensor.wrap(new float[] {7.5f}),
        "empty", Tensor.wrap(new float[0], 0, 3));

    SafetensorsFile back = SafetensorsReader.read(SafetensorsWriter.toBytes(state, Map.of("k", "v")), "round");

    assertThat(back.metadata()).containsExactly(Map.entry("k", "v"));
    float[] read = back.tensor("specials").toArray();
    for (int i = 0; i < specials.length; i++) {
      assertThat(Float.floatToRawIntBits(read[i])).as("value %d", i).isEqualTo(Float.floatToRawIntBits(specials[i]));
    }
    assertThat(back.tensor("longs").dtype()).isEqualTo(Dtype.INT64);
    assertThat(back.tensor("longs").toLongArray()).containsExactly(longs);
    assertThat(back.tensor("longs").shape()).containsExactly(3, 2);
    assertThat(back.tensor("scalar").shape()).isEmpty();
    assertThat(back.tensor("empty").shape()).containsExactly(0, 3);
  }

  @Test
  void writesLargeTensorsAcrossChunks() {
    float[] values = new float[20_011];
    for (int i = 0; i < values.length; i++) {
      values[i] = i * 0.5f - 17;
    }

    Tensor back = SafetensorsReader.read(SafetensorsWriter.toBytes(Map.of("w", Tensor.wrap(values, 20_011)), null), "big")
        .tensor("w");

    assertThat(back.toArray()).containsExactly(values);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tree_1", "tree_2", "tree_3"})
  void torchWrittenTreeFileWrittenAgainHoldsTheSameTensors(String tree) {
    byte[] original = resource("/torch-trees/" + tree + ".safetensors");
    SafetensorsFile file = SafetensorsReader.read(original, tree);

    byte[] written = SafetensorsWriter.toBytes(file.tensors(), file.metadata());
    SafetensorsFile back = SafetensorsReader.read(written, tree + " written");

    assertThat(back.tensors().keySet()).containsExactlyInAnyOrderElementsOf(file.tensors().keySet());
    assertThat(back.metadata()).isEqualTo(file.metadata());
    for (Map.Entry<String, Tensor> entry : file.tensors().entrySet()) {
      Tensor again = back.tensor(entry.getKey());
      assertThat(again.dtype()).as(entry.getKey()).isEqualTo(entry.getValue().dtype());
      assertThat(again).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    // The same data bytes, only in the library's order: equal sizes, and I64 (where any) first.
    assertThat(written.length - headerLength(written)).isEqualTo(original.length - headerLength(original));
    if (file.tensors().values().stream().anyMatch(t -> t.dtype() == Dtype.INT64)) {
      assertThat(back.tensors().values().iterator().next().dtype()).isEqualTo(Dtype.INT64);
    }
  }

  // ------------------------------------------------------------------------------------------------ errors

  @Test
  void refusesATensorNamedLikeTheMetadata() {
    assertThatThrownBy(() -> SafetensorsWriter.toBytes(Map.of("__metadata__", Tensor.of(1)), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot write a tensor named '__metadata__': the format keeps that key for the metadata;"
            + " rename the tensor");
  }

  @Test
  void refusesANullTensor() {
    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("weight", null);
    assertThatThrownBy(() -> SafetensorsWriter.toBytes(state, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot write tensor 'weight': it is null");
  }

  @Test
  void headerIsPaddedForEveryNameLength() {
    for (int length = 1; length <= 16; length++) {
      char[] name = new char[length];
      Arrays.fill(name, 'x');
      byte[] written = SafetensorsWriter.toBytes(Map.of(new String(name), Tensor.of(1)), null);
      assertThat(headerLength(written) % 8).as("name length %d", length).isZero();
      assertThat(header(written).stripTrailing()).endsWith("}");
      assertThat(written).hasSize(8 + (int) headerLength(written) + 4);
    }
  }
}
