package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayOutputStream;
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

class NpyReaderTest {
  private static final String SOURCE = "conf/fc_weight.npy";

  @ParameterizedTest
  @ValueSource(strings = {
      "fc_weight_f4.npy", "fc_bias_f4.npy", "fc_weight_f8.npy", "fc_weight_be_f4.npy", "fc_weight_be_f8.npy",
      "fc_weight_f2.npy", "fc_weight_fortran.npy", "cube_fortran.npy", "fc_weight_v2.npy", "fc_weight_v3.npy",
      "scalar_f4.npy", "empty_f4.npy"})
  void readsWhatNumpyWrote(String name) {
    Tensor tensor = NpyReader.read(Fixtures.bytes(name), name);

    Fixtures.Recorded recorded = Fixtures.npy(name);
    assertThat(tensor.shape()).containsExactly(recorded.shape());
    assertThat(tensor.toArray()).containsExactly(recorded.values());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "fc_weight_f4.npy", "fc_weight_f8.npy", "fc_weight_be_f4.npy", "fc_weight_be_f8.npy", "fc_weight_fortran.npy",
      "fc_weight_v2.npy", "fc_weight_v3.npy"})
  void everyLayoutOfTheWeightHoldsTheSameTensorAsTheSafetensorsFile(String name) {
    Tensor fromSafetensors = SafetensorsReader.read(Fixtures.bytes("model_f32.safetensors"), "model")
        .tensor("fc.weight");

    assertThat(NpyReader.read(Fixtures.bytes(name), name)).isEqualTo(fromSafetensors);
  }

  @Test
  void fortranOrderIsTransposedToRowMajor() {
    Tensor cube = NpyReader.read(Fixtures.bytes("cube_fortran.npy"), "cube");

    // numpy: (np.arange(24) * 0.25 - 3).reshape(2, 3, 4), so [i, j, k] = (12 i + 4 j + k) * 0.25 - 3.
    assertThat(cube.shape()).containsExactly(2, 3, 4);
    assertThat(cube.get(1 * 12 + 2 * 4 + 3)).isEqualTo((12 + 8 + 3) * 0.25f - 3);
    assertThat(cube.get(0 * 12 + 1 * 4 + 0)).isEqualTo(4 * 0.25f - 3);
  }

  @Test
  void scalarHasAnEmptyShape() {
    Tensor scalar = NpyReader.read(Fixtures.bytes("scalar_f4.npy"), "scalar");

    assertThat(scalar.shape()).isEmpty();
    assertThat(scalar.toArray()).containsExactly(1.5f);
  }

  @Test
  void weightAndBiasFilesLoadALinearThatGivesTorchsOutputs(@TempDir Path dir) throws IOException {
    Path weightPath = dir.resolve("fc_weight.npy");
    Files.write(weightPath, Fixtures.bytes("fc_weight_f4.npy"));
    Tensor weight = NpyReader.read(weightPath);
    Tensor bias;
    try (InputStream in = NpyReaderTest.class.getResourceAsStream("/weights/fc_bias_f4.npy")) {
      bias = NpyReader.read(in, "fc_bias.npy");
    }
    Linear fc = new Linear(4, 3, true, 7);

    fc.loadStateDict(Map.of("weight", weight, "bias", bias), true);

    float[][] inputs = Fixtures.forwardInputs();
    float[][] outputs = Fixtures.forwardOutputs();
    for (int r = 0; r < inputs.length; r++) {
      // Float32 sums of four products in another order than torch's: a few ulps of values below 2.
      assertThat(fc.call(inputs[r])).containsExactly(outputs[r], org.assertj.core.api.Assertions.within(1e-6f));
    }
  }

  // ---------------------------------------------------------------------------------------- corrupt files

  @Test
  void rejectsABadMagicString() {
    byte[] bytes = Fixtures.bytes("fc_weight_f4.npy");
    bytes[1] = 'X';

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessage("Cannot read weights from conf/fc_weight.npy: the file does not start with the .npy magic string"
            + " \\x93NUMPY (it starts with 0x9358554d5059): it is not a NumPy .npy file. Save the array with"
            + " numpy.save.");
  }

  @Test
  void rejectsAnEmptyFile() {
    assertThatThrownBy(() -> NpyReader.read(new byte[0], SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("it starts with nothing (the file is empty)");
  }

  @Test
  void rejectsAnUnsupportedVersion() {
    byte[] bytes = Fixtures.bytes("fc_weight_f4.npy");
    bytes[6] = 4;

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the .npy format version is 4.0 (bytes 6 and 7); versions 1.0, 2.0 and 3.0 are read");
  }

  @Test
  void rejectsAMinorVersion() {
    byte[] bytes = Fixtures.bytes("fc_weight_f4.npy");
    bytes[7] = 1;

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the .npy format version is 1.1");
  }

  @Test
  void rejectsABadHeaderLiteral() {
    byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': Flase, 'shape': (3, 4), }", new byte[48]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header at byte 10 is not a valid .npy header literal: expected a string, True,"
            + " False, None, an integer, a tuple or a list at character 34, found 'F'");
  }

  @Test
  void rejectsAHeaderWithMissingKeys() {
    byte[] bytes = npy(1, "{'descr': '<f4', 'shape': (3, 4)}", new byte[48]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header at byte 10 has keys [descr, shape]; a .npy header has exactly 'descr',"
            + " 'fortran_order' and 'shape'");
  }

  @Test
  void rejectsAShapeThatIsNotATupleOfIntegers() {
    byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", new byte[12]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header's 'shape' is 3, not a tuple of integers");
  }

  @Test
  void rejectsANegativeDimension() {
    byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4), }", new byte[48]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header's shape [3, -4] has dimension -4 (dimensions must be >= 0");
  }

  @Test
  void rejectsAnIntegerDtype() {
    byte[] bytes = npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }", new byte[96]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the array has dtype '<i8', which is not read (supported: float16, float32 and"
            + " float64, such as '<f4' or '>f8')")
        .hasMessageContaining("array.astype(numpy.float32)");
  }

  @Test
  void rejectsAStructuredDtype() {
    byte[] bytes = npy(1, "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        new byte[16]);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header's 'descr' is [(x, <f4), (y, <f4)]: structured arrays are not read");
  }

  @Test
  void rejectsDataShorterThanTheShapeNeeds() {
    byte[] bytes = Fixtures.bytes("fc_weight_f4.npy");
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 4);

    assertThatThrownBy(() -> NpyReader.read(truncated, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the array data from byte 128 holds 44 bytes, but shape [3, 4] of 4-byte floats"
            + " needs 48: the file is truncated");
  }

  @Test
  void rejectsDataAfterTheArray() {
    byte[] bytes = Fixtures.bytes("fc_weight_f4.npy");
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);

    assertThatThrownBy(() -> NpyReader.read(longer, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the file goes on after the array data, which ends at byte 176");
  }

  @Test
  void refusesAnObjectArrayWithoutUnpickling() {
    assertThatThrownBy(() -> NpyReader.read(Fixtures.bytes("object.npy"), "object.npy"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the array has dtype '|O' (Python objects): reading it would mean unpickling, which is"
            + " never done");
  }

  @Test
  void rejectsAHeaderLengthPastTheEndOfTheFile() {
    byte[] bytes = Fixtures.bytes("fc_weight_v2.npy");
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1000);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the file ends at byte 176, inside the header (bytes 12 to 1012)");
  }

  @Test
  void rejectsAHeaderLongerThanTheLimit() {
    byte[] bytes = Fixtures.bytes("fc_weight_v2.npy");
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -1);

    assertThatThrownBy(() -> NpyReader.read(bytes, SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the header length is 4294967295 bytes, more than the limit of 1048576");
  }

  @Test
  void rejectsAVersion3HeaderThatIsNotUtf8() {
    byte[] header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n".getBytes(StandardCharsets.UTF_8);
    header[11] = (byte) 0xff;

    assertThatThrownBy(() -> NpyReader.read(npy(3, header, new byte[4]), SOURCE))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the version 3.0 header at byte 12 is not valid UTF-8");
  }

  // --------------------------------------------------------------------------------------------- helpers

  /** A .npy file of the given major version with {@code header} as written (no padding). */
  static byte[] npy(int major, String header, byte[] data) {
    return npy(major, header.getBytes(StandardCharsets.ISO_8859_1), data);
  }

  static byte[] npy(int major, byte[] header, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    ByteBuffer length = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
    if (major == 1) {
      length.putShort((short) header.length);
    } else {
      length.putInt(header.length);
    }
    out.writeBytes(length.array());
    out.writeBytes(header);
    out.writeBytes(data);
    return out.toByteArray();
  }
}
