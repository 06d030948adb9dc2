package dev.sparklinear.core.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * The weight files in {@code src/test/resources/weights}, written by {@code data/weights/make_weights.py} with PyTorch
 * and NumPy, and the values that script recorded in {@code expected.json} from the same tensors.
 */
final class Fixtures {
  private static final JsonNode EXPECTED = parse(bytes("expected.json"));

  private Fixtures() {}

  /** The bytes of one fixture file. */
  static byte[] bytes(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/weights/" + name)) {
      return Objects.requireNonNull(in, "no fixture " + name).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The shape and values recorded for tensor {@code name} of a safetensors fixture. */
  static Recorded safetensors(String file, String name) {
    return recorded(EXPECTED.path("safetensors").path(file).path("tensors").path(name), file + " " + name);
  }

  /** The metadata recorded for a safetensors fixture. */
  static JsonNode safetensorsMetadata(String file) {
    return EXPECTED.path("safetensors").path(file).path("metadata");
  }

  /** The shape and row-major values recorded for an npy fixture. */
  static Recorded npy(String file) {
    return recorded(EXPECTED.path("npy").path(file), file);
  }

  /** The inputs torch ran {@code fc} on, one row each. */
  static float[][] forwardInputs() {
    return matrix(EXPECTED.path("fc_forward").path("input"));
  }

  /** Torch's outputs of {@code fc} for {@link #forwardInputs()}. */
  static float[][] forwardOutputs() {
    return matrix(EXPECTED.path("fc_forward").path("output"));
  }

  static String version(String library) {
    return EXPECTED.path("versions").path(library).asText();
  }

  /** A tensor as the script recorded it: float32 values written as exact doubles. */
  record Recorded(int[] shape, float[] values) {}

  private static Recorded recorded(JsonNode node, String what) {
    if (node.isMissingNode()) {
      throw new IllegalArgumentException("expected.json records nothing for " + what);
    }
    int[] shape = new int[node.path("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = node.path("shape").get(i).intValue();
    }
    return new Recorded(shape, floats(node.path("values")));
  }

  private static float[][] matrix(JsonNode rows) {
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = floats(rows.get(r));
    }
    return out;
  }

  private static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).doubleValue();
    }
    return out;
  }

  private static JsonNode parse(byte[] json) {
    try {
      return new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
