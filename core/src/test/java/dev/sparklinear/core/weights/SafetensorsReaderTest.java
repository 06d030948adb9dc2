package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.StateDictLoadException;
import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsReaderTest {
  private static final String MODEL = "model_f32.safetensors";
  private static final String SOURCE = "conf/model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();

  // ------------------------------------------------------------------------------------------- real files

  @Test
  void readsEveryTensorOfTheModelSavedByTorchInHeaderOrder() {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(MODEL), SOURCE);

    assertThat(file.source()).isEqualTo(SOURCE);
    assertThat(file.tensors().keySet())
        .containsExactly("encoder.bias", "encoder.weight", "fc.bias", "fc.weight");
    for (Map.Entry<String, Tensor> entry : file.tensors().entrySet()) {
      assertRecorded(entry.getValue(), Fixtures.safetensors(MODEL, entry.getKey()));
    }
  }

  @Test
  void readsTheMetadataTorchWrote() {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(MODEL), SOURCE);

    JsonNode recorded = Fixtures.safetensorsMetadata(MODEL);
    assertThat(file.metadata()).hasSize(recorded.size()).containsEntry("format", "pt");
    recorded.fields().forEachRemaining(e -> assertThat(file.metadata()).containsEntry(e.getKey(), e.getValue().asText()));
  }

  @Test
  void fileWithoutMetadataHasEmptyMetadata() {
    assertThat(SafetensorsReader.read(Fixtures.bytes("linear_f64.safetensors"), SOURCE).metadata()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"linear_f64.safetensors", "linear_f16.safetensors", "linear_bf16.safetensors"})
  void widensEachFloatDtypeToTheFloat32ValuesTorchGives(String name) {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(name), name);

    assertThat(file.tensors().keySet()).containsExactly("bias", "weight");
    assertRecorded(file.tensor("weight"), Fixtures.safetensors(name, "weight"));
    assertRecorded(file.tensor("bias"), Fixtures.safetensors(name, "bias"));
  }

  @Test
  void halfPrecisionFilesHoldRoundedCopiesOfTheFloat32Weights() {
    // Guards the fixtures themselves: the 16-bit files must differ from F32 only by their rounding.
    float[] f32 = Fixtures.safetensors(MODEL, "fc.weight").values();
    float[] f16 = SafetensorsReader.read(Fixtures.bytes("linear_f16.safetensors"), "f16").tensor("weight").toArray();
    float[] bf16 = SafetensorsReader.read(Fixtures.bytes("linear_bf16.safetensors"), "bf16").tensor("weight").toArray();
    for (int i = 0; i < f32.length; i++) {
      assertThat(f16[i]).isCloseTo(f32[i], within(Math.abs(f32[i]) * 0x1p-11f));
      assertThat(bf16[i]).isCloseTo(f32[i], within(Math.abs(f32[i]) * 0x1p-8f));
    }
    assertThat(bf16).isNotEqualTo(f32);
  }

  @Test
  void readsTheSameFromAStreamAsFromBytes(@TempDir Path dir) throws IOException {
    byte[] bytes = Fixtures.bytes(MODEL);
    Path path = dir.resolve("model.safetensors");
    Files.write(path, bytes);

    SafetensorsFile fromBytes = SafetensorsReader.read(bytes, SOURCE);
    SafetensorsFile fromPath = SafetensorsReader.read(path);
    SafetensorsFile fromTrickle;
    try (InputStream in = new OneByteAtATime(bytes)) {
      fromTrickle = SafetensorsReader.read(in, SOURCE);
    }

    assertThat(fromPath.tensors()).isEqualTo(fromBytes.tensors());
    assertThat(fromPath.source()).isEqualTo(path.toString());
    assertThat(fromTrickle.tensors()).isEqualTo(fromBytes.tensors());
  }

  @Test
  void readsAFileWithNoTensors() {
    SafetensorsFile file = SafetensorsReader.read(file("{}", new byte[0]), SOURCE);

    assertThat(file.tensors()).isEmpty();
    assertThat(file.metadata()).isEmpty();
  }

  @Test
  void readsScalarAndEmptyTensors() {
    byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f).array();
    String header = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
        + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[4,4]}}";

    SafetensorsFile file = SafetensorsReader.read(file(header, data), SOURCE);

    assertThat(file.tensor("s").shape()).isEmpty();
    assertThat(file.tensor("s").toArray()).containsExactly(2.5f);
    assertThat(file.tensor("e").shape()).containsExactly(0, 4);
  }

  // ------------------------------------------------------------------------------------- loading a Linear

  @Test
  void linearLoadedFromThePrefixGivesTorchsOutputs() {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(MODEL), SOURCE);
    Linear fc = new Linear(4, 3, true, 7);

    fc.loadStateDict(file.withPrefix("fc.").tensors(), true);

    float[][] inputs = Fixtures.forwardInputs();
    float[][] outputs = Fixtures.forwardOutputs();
    assertThat(inputs).hasNumberOfRows(5);
    for (int r = 0; r < inputs.length; r++) {
      float[] y = fc.call(inputs[r]);
      // Float32 sums of four products in a different order than torch's: a few ulps of values below 2.
      for (int c = 0; c < y.length; c++) {
        assertThat(y[c]).as("row %d, column %d", r, c).isCloseTo(outputs[r][c], within(1e-6f));
      }
    }
  }

  @Test
  void strictLoadOfAnotherLayersTensorsReportsTheSizeMismatchLikeTorch() {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(MODEL), SOURCE);
    Linear fc = new Linear(4, 3, true, 7);

    assertThatThrownBy(() -> fc.loadStateDict(file.withPrefix("encoder.").tensors(), true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessageContaining("size mismatch for weight: copying a param with shape [4, 8] from checkpoint,"
            + " the shape in current model is [3, 4].");
  }

  @Test
  void strictLoadWithoutThePrefixListsTheUnexpectedKeysOfTheFile() {
    SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes(MODEL), SOURCE);
    Linear fc = new Linear(4, 3, true, 7);

    assertThatThrownBy(() -> fc.loadStateDict(file.tensors(), true))
        .isInstanceOf(StateDictLoadException.class)
        .hasMessageContaining("Missing key(s) in state_dict: \"weight\", \"bias\".")
        .hasMessageContaining(
            "Unexpected key(s) in state_dict: \"encoder.bias\", \"encoder.weight\", \"fc.bias\", \"fc.weight\".");
  }

  // ---------------------------------------------------------------------------------------- corrupt files

  @Test
  void rejectsAFileTruncatedInsideTheData() {
    byte[] bytes = Fixtures.bytes(MODEL);

    assertThatThrownBy(() -> SafetensorsReader.read(Arrays.copyOf(bytes, bytes.length - 10), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageStartingWith("Cannot read weights from " + SOURCE + ": tensor 'fc.weight' has data_offsets")
        .hasMessageContaining("past the end of the data buffer, which holds 194 bytes")
        .hasMessageContaining("truncated");
  }

  @Test
  void rejectsAFileTooShortForTheHeaderLength() {
    assertThatThrownBy(() -> SafetensorsReader.read(new byte[] {12, 0, 0}, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("ends at byte 3, inside the 8-byte header length")
        .hasMessageContaining("truncated");
  }

  @Test
  void rejectsAHeaderLengthPastTheEndOfTheFile() {
    byte[] bytes = Fixtures.bytes(MODEL);
    long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length + 100L);

    assertThatThrownBy(() -> SafetensorsReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the file ends at byte " + bytes.length + ", inside the JSON header (bytes 8 to "
            + (8 + bytes.length + 100) + ")");
    assertThat(headerLength).isLessThan(bytes.length);
  }

  @Test
  void rejectsAHeaderLargerThanTheLimit() {
    byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array();

    assertThatThrownBy(() -> SafetensorsReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header length in the first 8 bytes is 200000000, more than the limit of 100000000");
  }

  @Test
  void rejectsAHeaderLengthWithTheTopBitSet() {
    byte[] bytes = new byte[16];
    Arrays.fill(bytes, 0, 8, (byte) 0xff);

    assertThatThrownBy(() -> SafetensorsReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("header length in the first 8 bytes is 18446744073709551615");
  }

  @Test
  void rejectsAHeaderThatIsNotJson() {
    assertThatThrownBy(() -> SafetensorsReader.read(file("{\"a\": [1, 2}", new byte[0]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header (bytes 8 to 20) is not valid JSON at line 1, column 12")
        .hasMessageContaining("not a safetensors file");
  }

  @Test
  void rejectsAHeaderThatIsNotAJsonObject() {
    assertThatThrownBy(() -> SafetensorsReader.read(file("[1, 2]", new byte[0]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("is an array ([1,2]), not a JSON object mapping tensor names");
  }

  @Test
  void rejectsTrailingJsonAfterTheHeaderObject() {
    assertThatThrownBy(() -> SafetensorsReader.read(file("{} {}", new byte[0]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("is not valid JSON");
  }

  @Test
  void rejectsAHeaderThatIsNotUtf8() {
    byte[] header = {'{', '"', (byte) 0xc3, (byte) 0x28, '"', ':', '1', '}'};

    assertThatThrownBy(() -> SafetensorsReader.read(file(header, new byte[0]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("is not valid UTF-8");
  }

  @Test
  void rejectsADuplicateTensorName() {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";

    assertThatThrownBy(() -> SafetensorsReader.read(file(header, new byte[8]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("is not valid JSON")
        .hasMessageContaining("Duplicate field 'w'");
  }

  @Test
  void rejectsOffsetsOutsideTheDataBuffer() {
    ObjectNode header = header(MODEL);
    offsets(header, "fc.bias", 1000, 1012);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.bias' has data_offsets [1000, 1012], past the end of the data buffer,"
            + " which holds 204 bytes");
  }

  @Test
  void rejectsOffsetsThatLeaveAHole() {
    ObjectNode header = header(MODEL);
    header.remove("fc.bias");

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("bytes 144 to 156 of the data buffer belong to no tensor (between 'encoder.weight'"
            + " and before 'fc.weight' at data_offsets [156, 204])");
  }

  @Test
  void rejectsDataAfterTheLastTensor() {
    byte[] bytes = Fixtures.bytes(MODEL);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 4);

    assertThatThrownBy(() -> SafetensorsReader.read(longer, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the file goes on after the data buffer, which ends at byte " + bytes.length);
  }

  @Test
  void rejectsOverlappingOffsets() {
    ObjectNode header = header(MODEL);
    offsets(header, "fc.bias", 140, 152);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.bias' at data_offsets [140, 152] overlaps tensor 'encoder.weight' at"
            + " data_offsets [16, 144]");
  }

  @Test
  void rejectsAByteCountThatDoesNotMatchShapeAndDtype() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.weight")).putArray("shape").add(3).add(5);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.weight' has data_offsets [156, 204], 48 bytes, but shape [3, 5] of F32"
            + " needs 60 bytes");
  }

  @Test
  void readsI64TensorsAsExactInt64Values() {
    // As torch saves an integer buffer (num_batches_tracked): values beyond 2^53 must survive, so no float detour.
    byte[] header = "{\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}"
        .getBytes(StandardCharsets.UTF_8);
    ByteBuffer file = ByteBuffer.allocate(8 + header.length + 16).order(ByteOrder.LITTLE_ENDIAN);
    file.putLong(header.length).put(header).putLong(Long.MAX_VALUE).putLong(-3);

    Tensor n = SafetensorsReader.read(file.array(), SOURCE).tensor("n");

    assertThat(n.dtype()).isEqualTo(Dtype.INT64);
    assertThat(n.shape()).containsExactly(2);
    assertThat(n.toLongArray()).containsExactly(Long.MAX_VALUE, -3);
  }

  @Test
  void rejectsAnIntegerDtypeNamingTheTensor() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.bias")).put("dtype", "I32");

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.bias' has dtype 'I32', which is not read (supported: F32, F64, F16, BF16 as"
            + " float32, and I64)")
        .hasMessageContaining("v.float()");
  }

  @Test
  void rejectsAnUnknownDtype() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.bias")).put("dtype", "F33");

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.bias' has unknown dtype 'F33'");
  }

  @Test
  void rejectsANegativeDimension() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.weight")).putArray("shape").add(3).add(-4);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.weight' has shape [3, -4]: dimensions must be >= 0");
  }

  @Test
  void rejectsAShapeWhoseProductOverflows() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.weight")).putArray("shape").add(Integer.MAX_VALUE).add(Integer.MAX_VALUE).add(16);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("more values than one Java array holds");
  }

  @Test
  void rejectsAnEntryWithoutDataOffsets() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.weight")).remove("data_offsets");

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.weight' has no 'data_offsets' in the header");
  }

  @Test
  void rejectsOffsetsThatAreNotIntegers() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("fc.weight")).putArray("data_offsets").add(156.5).add(204);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("tensor 'fc.weight' has data_offsets [156.5,204]: item 0 is a number (156.5),"
            + " not a 64-bit integer");
  }

  @Test
  void rejectsMetadataThatIsNotStrings() {
    ObjectNode header = header(MODEL);
    ((ObjectNode) header.get("__metadata__")).put("epochs", 3);

    assertThatThrownBy(() -> SafetensorsReader.read(rebuilt(MODEL, header), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header's __metadata__ value for 'epochs' is a number (3), not a string");
  }

  @Test
  void exceptionNamesItsSource() {
    WeightFileException e = org.junit.jupiter.api.Assertions.assertThrows(
        WeightFileException.class, () -> SafetensorsReader.read(new byte[0], "hdfs://nn/models/fc.safetensors"));

    assertThat(e.source()).isEqualTo("hdfs://nn/models/fc.safetensors");
    assertThat(e.getMessage()).startsWith("Cannot read weights from hdfs://nn/models/fc.safetensors: ");
  }

  // --------------------------------------------------------------------------------------------- helpers

  private static void assertRecorded(Tensor tensor, Fixtures.Recorded recorded) {
    assertThat(tensor.shape()).containsExactly(recorded.shape());
    assertThat(tensor.toArray()).containsExactly(recorded.values());
  }

  /** The JSON header of a fixture file. */
  static ObjectNode header(String name) {
    byte[] bytes = Fixtures.bytes(name);
    int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    try {
      return (ObjectNode) JSON.readTree(new String(bytes, 8, length, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** A fixture's data buffer under a new header. */
  static byte[] rebuilt(String name, ObjectNode header) {
    byte[] bytes = Fixtures.bytes(name);
    int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return file(header.toString(), Arrays.copyOfRange(bytes, 8 + length, bytes.length));
  }

  static byte[] file(String header, byte[] data) {
    return file(header.getBytes(StandardCharsets.UTF_8), data);
  }

  static byte[] file(byte[] header, byte[] data) {
    return ByteBuffer.allocate(8 + header.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(header.length)
        .put(header)
        .put(data)
        .array();
  }

  private static void offsets(ObjectNode header, String tensor, long begin, long end) {
    ArrayNode offsets = ((ObjectNode) header.get(tensor)).putArray("data_offsets");
    offsets.add(begin).add(end);
  }

  /** A stream that hands out one byte per read, as a slow network stream may. */
  private static final class OneByteAtATime extends ByteArrayInputStream {
    OneByteAtATime(byte[] bytes) {
      super(bytes);
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
      return super.read(b, off, Math.min(len, 1));
    }
  }
}
