package dev.sparklinear.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Reads the JSON fixtures that the {@code make_fixtures.py} scripts wrote with PyTorch. Each number is the shortest
 * repr of a float32 widened to double (or of a double): narrowing a float32 value gives back the exact bits.
 */
public final class TorchJson {
  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  private TorchJson() {}

  public static JsonNode read(String resource) {
    try (InputStream stream = TorchJson.class.getResourceAsStream(resource)) {
      assertThat(stream).as("test resource %s", resource).isNotNull();
      return JSON.readTree(stream);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }

  public static float[] floats(JsonNode values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values.get(i).doubleValue();
    }
    return out;
  }

  public static long[] longs(JsonNode values) {
    long[] out = new long[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i).longValue();
    }
    return out;
  }

  public static float[][] floatRows(JsonNode rows) {
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = floats(rows.get(r));
    }
    return out;
  }

  public static double[][] doubleRows(JsonNode rows) {
    double[][] out = new double[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = new double[rows.get(r).size()];
      for (int c = 0; c < out[r].length; c++) {
        out[r][c] = rows.get(r).get(c).doubleValue();
      }
    }
    return out;
  }

  /** A tensor written as {@code {dtype, shape, values}}; null for JSON null (torch's None). */
  public static Tensor tensor(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    int[] shape = new int[node.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = node.get("shape").get(i).intValue();
    }
    if (node.get("dtype").textValue().equals("int64")) {
      return Tensor.wrapLongs(longs(node.get("values")), shape);
    }
    return Tensor.wrap(floats(node.get("values")), shape);
  }
}
