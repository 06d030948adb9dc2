package dev.sparklinear.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntToDoubleFunction;

/**
 * A layer for tests that run the job: its weight and bias written into a job config with four decimals, and the
 * same decimals read as floats (what the job computes with) for a double-precision reference.
 *
 * <pre>{@code
 * InlineLayer layer = InlineLayer.of(16, 4, (o, j) -> Math.cos(1.7 * o + 0.45 * j), o -> 0.5 - 0.375 * o);
 * Files.writeString(file, layer.jobConfig());
 * double expected = layer.reference(o, j -> feature(id, j));
 * }</pre>
 */
public final class InlineLayer {
  /** The value of weight {@code [o][j]}. */
  @FunctionalInterface
  public interface WeightFunction {
    double at(int o, int j);
  }

  private final float[][] weight;
  private final float[] bias;
  private final String jobConfig;

  private InlineLayer(float[][] weight, float[] bias, String jobConfig) {
    this.weight = weight;
    this.bias = bias;
    this.jobConfig = jobConfig;
  }

  public static InlineLayer of(int in, int out, WeightFunction weight, IntToDoubleFunction bias) {
    float[][] w = new float[out][in];
    float[] b = new float[out];
    List<String> weightRows = new ArrayList<>();
    for (int o = 0; o < out; o++) {
      List<String> values = new ArrayList<>();
      for (int j = 0; j < in; j++) {
        String value = fourDecimals(weight.at(o, j));
        w[o][j] = Float.parseFloat(value);
        values.add(value);
      }
      weightRows.add("[" + String.join(", ", values) + "]");
    }
    List<String> biasValues = new ArrayList<>();
    for (int o = 0; o < out; o++) {
      String value = fourDecimals(bias.applyAsDouble(o));
      b[o] = Float.parseFloat(value);
      biasValues.add(value);
    }
    String yaml = String.join("\n",
        "module:",
        "  in-features: " + in,
        "  out-features: " + out,
        "  bias: true",
        "  weights:",
        "    format: inline",
        "    weight: [" + String.join(", ", weightRows) + "]",
        "    bias: [" + String.join(", ", biasValues) + "]",
        "input:",
        "  column: features",
        "output:",
        "  mode: errorifexists",
        "");
    return new InlineLayer(w, b, yaml);
  }

  private static String fourDecimals(double value) {
    return String.format(Locale.ROOT, "%.4f", value);
  }

  /** A job config with this layer, reading column {@code features}; input and output paths are set with --set. */
  public String jobConfig() {
    return jobConfig;
  }

  /** Output {@code o} for the features {@code x}, in double precision from the float parameters. */
  public double reference(int o, IntToDoubleFunction x) {
    double sum = bias[o];
    for (int j = 0; j < weight[o].length; j++) {
      sum += (double) weight[o][j] * x.applyAsDouble(j);
    }
    return sum;
  }

  /** The sum of the magnitudes of the terms of output {@code o}: the scale of its float32 rounding error. */
  public double magnitude(int o, IntToDoubleFunction x) {
    double sum = Math.abs(bias[o]);
    for (int j = 0; j < weight[o].length; j++) {
      sum += Math.abs((double) weight[o][j] * x.applyAsDouble(j));
    }
    return sum;
  }
}
