package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sparklinear.core.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the fixtures that {@code torch-trees/make_fixtures.py} wrote with PyTorch, and holds the one rule that every
 * output is checked by against torch's float32 output and the float64 reference.
 *
 * <p><b>The rule.</b> The float64 output of the same module on the same (float32) inputs stands for the exact value.
 * For each row, torch's own error {@code T} is the largest {@code |torch32 - ref|} over the row's finite values. Each
 * of our values must be within {@code 2 T + 4 ulp(ref)} of the reference: no worse than twice torch's error on the
 * same row plus four float32 units in the last place of the value itself. Rows are the unit because each fixture
 * row has one scale (the rows of large magnitude would otherwise hide the errors of the small ones). Where the
 * reference is NaN or infinite, our value must be the same (NaN, or the same infinity): what torch defines there.
 *
 * <p>The backward tests hold gradients to a stricter rule, {@link #assertWithinTorchsError}: no factor and no slack,
 * our largest error in a row no larger than torch's.
 */
final class TorchFixtures {
  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  private TorchFixtures() {}

  static JsonNode read(String resource) {
    try (InputStream stream = TorchFixtures.class.getResourceAsStream(resource)) {
      assertThat(stream).as("test resource %s", resource).isNotNull();
      return JSON.readTree(stream);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }

  static byte[] bytes(String resource) {
    try (InputStream stream = TorchFixtures.class.getResourceAsStream(resource)) {
      assertThat(stream).as("test resource %s", resource).isNotNull();
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }

  /** Each number is the shortest repr of a float32 widened to double: narrowing gives back the exact bits. */
  static float[][] floats(JsonNode rows) {
    float[][] m = new float[rows.size()][];
    for (int r = 0; r < m.length; r++) {
      m[r] = new float[rows.get(r).size()];
      for (int c = 0; c < m[r].length; c++) {
        m[r][c] = (float) rows.get(r).get(c).doubleValue();
      }
    }
    return m;
  }

  static double[][] doubles(JsonNode rows) {
    double[][] m = new double[rows.size()][];
    for (int r = 0; r < m.length; r++) {
      m[r] = new double[rows.get(r).size()];
      for (int c = 0; c < m[r].length; c++) {
        m[r][c] = rows.get(r).get(c).doubleValue();
      }
    }
    return m;
  }

  /** A state dict written as {@code {name: {dtype, shape, values}}}. */
  static Map<String, Tensor> stateDict(JsonNode entries) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    entries.fields().forEachRemaining(e -> out.put(e.getKey(), tensor(e.getValue())));
    return out;
  }

  private static Tensor tensor(JsonNode node) {
    int[] shape = new int[node.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = node.get("shape").get(i).intValue();
    }
    JsonNode values = node.get("values");
    if (node.get("dtype").textValue().equals("int64")) {
      long[] longs = new long[values.size()];
      for (int i = 0; i < longs.length; i++) {
        longs[i] = values.get(i).longValue();
      }
      return Tensor.wrapLongs(longs, shape);
    }
    float[] floats = new float[values.size()];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = (float) values.get(i).doubleValue();
    }
    return Tensor.wrap(floats, shape);
  }

  /** The largest errors against the reference, in float32 units in the last place of the reference value. */
  record Errors(double oursUlps, double torchUlps) {
    @Override
    public String toString() {
      return String.format("max error vs float64: ours %.2f ulp, torch %.2f ulp", oursUlps, torchUlps);
    }
  }

  /** Asserts the rule of this class for every value and returns the error figures. */
  static Errors assertNoWorseThanTorch(String what, float[][] ours, float[][] torch, double[][] reference) {
    assertThat(ours).as(what).hasNumberOfRows(reference.length);
    double oursUlps = 0;
    double torchUlps = 0;
    for (int r = 0; r < reference.length; r++) {
      assertThat(ours[r]).as("%s row %d", what, r).hasSize(reference[r].length);
      double torchError = 0;
      for (int c = 0; c < reference[r].length; c++) {
        if (Double.isFinite(reference[r][c]) && Float.isFinite(torch[r][c])) {
          torchError = Math.max(torchError, Math.abs(torch[r][c] - reference[r][c]));
          torchUlps = Math.max(torchUlps, ulps(torch[r][c], reference[r][c]));
        }
      }
      for (int c = 0; c < reference[r].length; c++) {
        double ref = reference[r][c];
        String where = String.format("%s row %d col %d: ours %s, torch %s, float64 %s", what, r, c, ours[r][c],
            torch[r][c], ref);
        if (!Double.isFinite(ref)) {
          assertThat(Double.valueOf(ours[r][c])).as(where).isEqualTo(Double.valueOf(ref)); // boxed: NaN equals NaN
          continue;
        }
        double bound = 2 * torchError + 4 * Math.ulp((float) ref);
        assertThat(Math.abs(ours[r][c] - ref)).as(where).isLessThanOrEqualTo(bound);
        oursUlps = Math.max(oursUlps, ulps(ours[r][c], ref));
      }
    }
    return new Errors(oursUlps, torchUlps);
  }

  /**
   * The largest error of each row against its reference, in float32 units in the last place of the row's largest
   * reference value, over the worst row: a figure a row of large values cannot hide the small ones' errors behind,
   * and that a value near zero does not blow up.
   */
  record RowErrors(double oursUlps, double torchUlps) {
    @Override
    public String toString() {
      return String.format("ours %.2f ulp, torch %.2f ulp", oursUlps, torchUlps);
    }
  }

  /**
   * The backward tests' rule, with no factor and no slack: in each row, our largest error against
   * {@code oursReference} is no larger than torch's largest error against {@code reference}. With the same reference
   * for both, ours is within torch's own float32 error of the exact value. Where a reference value is NaN or
   * infinite, our value must be the same.
   */
  static RowErrors assertWithinTorchsError(String what, float[][] ours, double[][] oursReference, float[][] torch,
      double[][] reference) {
    assertThat(ours).as(what).hasNumberOfRows(reference.length);
    assertThat(oursReference).as(what).hasNumberOfRows(reference.length);
    double oursUlps = 0;
    double torchUlps = 0;
    for (int r = 0; r < reference.length; r++) {
      assertThat(ours[r]).as("%s row %d", what, r).hasSize(reference[r].length);
      double torchError = 0;
      double oursError = 0;
      int worst = -1;
      double scale = 0;
      for (int c = 0; c < reference[r].length; c++) {
        double ref = reference[r][c];
        if (!Double.isFinite(ref)) {
          assertThat(Double.valueOf(ours[r][c])).as("%s row %d col %d", what, r, c) // boxed: NaN equals NaN
              .isEqualTo(Double.valueOf(oursReference[r][c]));
          continue;
        }
        scale = Math.max(scale, Math.abs(ref));
        if (Float.isFinite(torch[r][c])) {
          torchError = Math.max(torchError, Math.abs(torch[r][c] - ref));
        }
        double error = Math.abs(ours[r][c] - oursReference[r][c]);
        if (error > oursError || worst < 0) {
          oursError = error;
          worst = c;
        }
      }
      if (worst >= 0) {
        assertThat(oursError).as("%s row %d: largest error at col %d (ours %s, its reference %s, float64 %s) against"
            + " torch's largest error in the row", what, r, worst, ours[r][worst], oursReference[r][worst],
            reference[r][worst]).isLessThanOrEqualTo(torchError);
      }
      double ulp = Math.ulp((float) scale);
      oursUlps = Math.max(oursUlps, oursError / ulp);
      torchUlps = Math.max(torchUlps, torchError / ulp);
    }
    return new RowErrors(oursUlps, torchUlps);
  }

  private static double ulps(float value, double reference) {
    return Math.abs(value - reference) / Math.ulp((float) reference);
  }
}
