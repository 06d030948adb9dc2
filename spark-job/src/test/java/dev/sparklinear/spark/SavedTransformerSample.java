package dev.sparklinear.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparklinear.core.nn.BatchNorm1d;
import dev.sparklinear.core.nn.Dropout;
import dev.sparklinear.core.nn.GELU;
import dev.sparklinear.core.nn.LayerNorm;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ReLU;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.nn.Softmax;
import dev.sparklinear.core.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The transformer whose saved files PyTorch checks ({@code data/heads/check_saved_transformer.py}): a seeded tree with
 * every kind of state (Linear weights and biases, BatchNorm1d's running statistics and int64 counter, LayerNorm's
 * affine map), and sample rows. The weights depend only on the seeds, so the tests rebuild the same module and compare
 * its outputs with the ones PyTorch computed from the saved files ({@code data/heads/torch_outputs.json}).
 *
 * <p>Run as a program with a directory: saves the transformer there and writes {@code samples.json} (the rows and the
 * Java outputs) beside it.
 */
final class SavedTransformerSample {
  static final int IN = 6;
  static final int OUT = 3;

  private SavedTransformerSample() {}

  /** Linear, BatchNorm1d, ReLU, Dropout, Linear, LayerNorm, GELU (tanh), Linear, Softmax; in eval mode. */
  static Sequential module() {
    Sequential module = new Sequential(new Linear(IN, 16, true, 11), new BatchNorm1d(16), new ReLU(),
        new Dropout(0.1), new Linear(16, 8, true, 12), new LayerNorm(8), new GELU("tanh"),
        new Linear(8, OUT, false, 13), new Softmax(-1));
    Random random = new Random(20261130);
    Map<String, Tensor> state = new LinkedHashMap<>(module.stateDict());
    state.put("1.weight", Tensor.wrap(floats(random, 16, 0.5, 1.0), 16));
    state.put("1.bias", Tensor.wrap(floats(random, 16, 0.3, 0.0), 16));
    state.put("1.running_mean", Tensor.wrap(floats(random, 16, 0.4, 0.0), 16));
    state.put("1.running_var", Tensor.wrap(positive(random, 16), 16));
    state.put("1.num_batches_tracked", Tensor.ofLong(1234));
    state.put("5.weight", Tensor.wrap(floats(random, 8, 0.5, 1.0), 8));
    state.put("5.bias", Tensor.wrap(floats(random, 8, 0.3, 0.0), 8));
    module.loadStateDict(state, true);
    module.eval();
    return module;
  }

  private static float[] floats(Random random, int n, double scale, double shift) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextGaussian() * scale + shift);
    }
    return out;
  }

  private static float[] positive(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextDouble() * 2 + 0.1);
    }
    return out;
  }

  /** Rows of several scales, float-exact. */
  static float[][] inputs() {
    Random random = new Random(7);
    double[] scales = {1, 1, 3, 0.01, 20, 1, 0.5, 5};
    float[][] rows = new float[scales.length][IN];
    for (int r = 0; r < rows.length; r++) {
      for (int k = 0; k < IN; k++) {
        rows[r][k] = (float) (random.nextGaussian() * scales[r]);
      }
    }
    return rows;
  }

  static StructType schema() {
    return new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
  }

  static Dataset<Row> frame(SparkSession spark, float[][] rows) {
    List<Row> out = new ArrayList<>();
    for (int r = 0; r < rows.length; r++) {
      List<Float> values = new ArrayList<>();
      for (float v : rows[r]) {
        values.add(v);
      }
      out.add(RowFactory.create((long) r, values));
    }
    return spark.createDataFrame(out, schema()).coalesce(1);
  }

  static ModuleTransformer transformer() {
    return new ModuleTransformer(module(), IN, OUT).setInputCol("features").setOutputCol("probabilities");
  }

  /** The outputs by id, from a transform's {@code probabilities} column. */
  static float[][] outputs(Dataset<Row> transformed, int rows) {
    float[][] out = new float[rows][];
    for (Row row : transformed.collectAsList()) {
      List<Float> values = row.getList(row.fieldIndex("probabilities"));
      float[] y = new float[values.size()];
      for (int k = 0; k < y.length; k++) {
        y[k] = values.get(k);
      }
      out[(int) row.getLong(row.fieldIndex("id"))] = y;
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]).toAbsolutePath();
    SparkSession spark = SparkSession.builder().master("local[1]").appName("saved-transformer-sample")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    try {
      ModuleTransformer transformer = transformer();
      transformer.write().overwrite().save(dir.toString());
      float[][] inputs = inputs();
      float[][] outputs = outputs(transformer.transform(frame(spark, inputs)), inputs.length);
      ObjectMapper json = new ObjectMapper();
      ObjectNode samples = json.createObjectNode();
      samples.set("inputs", matrix(json, inputs));
      samples.set("outputs", matrix(json, outputs));
      Files.writeString(dir.resolve("samples.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(samples));
    } finally {
      spark.stop();
    }
  }

  /** Each float widened to double: its shortest repr reads back as the same float. */
  private static ArrayNode matrix(ObjectMapper json, float[][] rows) {
    ArrayNode out = json.createArrayNode();
    for (float[] row : rows) {
      ArrayNode values = out.addArray();
      for (float v : row) {
        values.add((double) v);
      }
    }
    return out;
  }
}
