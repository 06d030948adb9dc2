package dev.sparklinear.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The fit fixtures made by torch ({@code src/test/resources/fit/make_fixtures.py}): the training data, written as a
 * Parquet input with one label column per kind of label, and each case's initial parameters and torch's float64 run.
 */
public final class FitFixtures {
  public static final int IN = 5;
  private static final JsonNode ROOT = read();

  private FitFixtures() {}

  private static JsonNode read() {
    try {
      return new ObjectMapper().readTree(RepositoryRoot.resolve("spark-job/src/test/resources/fit/fixtures.json")
          .toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every case, by name. */
  public static List<String> caseNames() {
    return StreamSupport.stream(ROOT.get("cases").spliterator(), false).map(c -> c.get("name").asText()).toList();
  }

  public static JsonNode testCase(String name) {
    return StreamSupport.stream(ROOT.get("cases").spliterator(), false)
        .filter(c -> c.get("name").asText().equals(name)).findFirst().orElseThrow();
  }

  /** The rows as the input holds them: id, features, label_mse (2), label_mse1, label_bce (3), label_ce. */
  public static List<Row> rows() {
    JsonNode features = ROOT.get("data").get("features");
    JsonNode labels = ROOT.get("data").get("labels");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < features.size(); i++) {
      rows.add(RowFactory.create((long) i, floats(features.get(i)), floats(labels.get("mse").get(i)),
          (float) labels.get("mse1").get(i).asDouble(), floats(labels.get("bce").get(i)),
          labels.get("ce").get(i).asLong()));
    }
    return rows;
  }

  public static StructType schema() {
    return new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("label_mse", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("label_mse1", DataTypes.FloatType, false)
        .add("label_bce", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("label_ce", DataTypes.LongType, false);
  }

  /**
   * Writes the input as {@code files} Parquet files of consecutive rows, in id order: read back, one partition each
   * when {@code spark.sql.files.openCostInBytes} is large (Spark packs small files together while their sizes plus
   * that cost per file fit in a split).
   */
  public static Path writeInput(SparkSession spark, Path path, int files) {
    List<Row> rows = rows();
    for (int f = 0; f < files; f++) {
      List<Row> part = rows.subList(f * rows.size() / files, (f + 1) * rows.size() / files);
      spark.createDataFrame(part, schema()).coalesce(1).write().mode("append").parquet(path.toString());
    }
    return path;
  }

  private static List<Float> floats(JsonNode values) {
    List<Float> out = new ArrayList<>();
    values.forEach(v -> out.add((float) v.asDouble()));
    return out;
  }

  /**
   * The YAML config of case {@code c}: its model with the case's initial parameters inline (the single-Linear form
   * for {@code linear}, {@code module.layers} for {@code mlp}), the input, the output and the fit section.
   */
  public static String config(JsonNode c, Path input, Path output) {
    JsonNode initial = c.get("initial");
    int out = c.get("out").asInt();
    StringBuilder yaml = new StringBuilder("module:\n");
    if (c.get("model").asText().equals("linear")) {
      yaml.append("  in-features: ").append(IN).append("\n  out-features: ").append(out).append("\n")
          .append("  weights:\n    format: inline\n")
          .append("    weight: ").append(matrix(initial.get("weight"))).append("\n")
          .append("    bias: ").append(values(initial.get("bias"))).append("\n");
    } else {
      yaml.append("  layers:\n    - {type: linear, in-features: ").append(IN).append(", out-features: 8}\n")
          .append("    - relu\n    - {type: linear, in-features: 8, out-features: ").append(out).append("}\n")
          .append("  weights:\n    format: inline\n    tensors:\n");
      initial.fields().forEachRemaining(e -> yaml.append("      \"").append(e.getKey()).append("\": ")
          .append(e.getValue().get("shape").size() == 2 ? matrix(e.getValue()) : values(e.getValue())).append("\n"));
    }
    yaml.append("input:\n  path: ").append(input).append("\n  column: features\n")
        .append("output:\n  path: ").append(output).append("\n  mode: overwrite\n")
        .append("fit:\n  label-column: label_").append(c.get("label").asText()).append("\n")
        .append("  loss: ").append(c.get("loss").asText()).append("\n")
        .append("  optimizer: ").append(flow(c.get("optimizer"))).append("\n")
        .append("  epochs: ").append(c.get("epochs").asInt()).append("\n");
    return yaml.toString();
  }

  private static String flow(JsonNode map) {
    List<String> entries = new ArrayList<>();
    map.fields().forEachRemaining(e -> entries.add(e.getKey() + ": " + e.getValue().toString().replace("\"", "")));
    return "{" + String.join(", ", entries) + "}";
  }

  private static String values(JsonNode tensor) {
    return StreamSupport.stream(tensor.get("values").spliterator(), false)
        .map(v -> String.format(Locale.ROOT, "%s", v.asText())).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String matrix(JsonNode tensor) {
    int cols = tensor.get("shape").get(1).asInt();
    List<String> rows = new ArrayList<>();
    JsonNode values = tensor.get("values");
    for (int r = 0; r < values.size() / cols; r++) {
      List<String> row = new ArrayList<>();
      for (int j = 0; j < cols; j++) {
        row.add(values.get(r * cols + j).asText());
      }
      rows.add("[" + String.join(", ", row) + "]");
    }
    return "[" + String.join(", ", rows) + "]";
  }

  /** Values of a tensor of a state dict in the fixtures ({@code initial}, {@code final64}), as doubles. */
  public static double[] tensor(JsonNode stateDict, String key) {
    JsonNode values = stateDict.get(key).get("values");
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i).asDouble();
    }
    return out;
  }
}
