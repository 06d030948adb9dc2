package dev.sparklinear.bench;

import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.ReLU;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.spark.ModuleTransformer;
import dev.sparklinear.spark.OutputLayout;
import dev.sparklinear.spark.ParquetOutput;
import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import dev.sparklinear.spark.ParquetReaderKind;
import dev.sparklinear.spark.parquet.ColumnarParquetWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.DenseMatrix;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The end-to-end benchmark driver: in one JVM and one {@code local[2]} session, times each contender reading the same
 * Parquet features, computing {@code y = x W^T + b} (or not, for the I/O floor) and writing Parquet, with the same
 * seeded weights for every contender. Run by {@code bench/e2e/run.sh}, which also times DuckDB and the command line.
 *
 * <pre>
 * EndToEnd --shape 64x16 --contenders floor,udf,mllib,linear --warmup full --passes 2 \
 *     --work WORKDIR --results results.tsv --weights-json w.json  64x16=data/random-64
 * </pre>
 *
 * <p>Each contender gets a warm-up pass ({@code full}: the whole first input; {@code file}: its first Parquet file;
 * {@code none}); then come {@code passes} timed rounds, each timing every contender once on every input, and the best
 * pass of each is recorded. A pass is one
 * Parquet write into a fresh folder, planning included. Each timed input appends one tab-separated line to the results
 * file: {@code label, contender, rows, seconds, rows/s, every pass's seconds}.
 *
 * <p>Contenders (the floors need {@code out <= in}):
 * <ul>
 *   <li>{@code read}: the read alone, every value decoded, nothing written (Spark's {@code noop} sink): the ceiling
 *       of any contender that reads through Spark;
 *   <li>{@code floor}: the I/O floor, the same read and an output of the same width made without compute
 *       ({@code slice(features, 1, out)}), written as {@code array<float>};
 *   <li>{@code floor-columns}: the same with one float column per output ({@code features[i]});
 *   <li>{@code floor-columnar}: the floor written by spark-linear's {@link ColumnarParquetWriter} instead of Spark's
 *       writer: the I/O floor of spark-linear's own output path;
 *   <li>{@code udf}: a per-row Java UDF over {@code array<float>} returning {@code float[]}: what a Spark user writes;
 *   <li>{@code mllib}: {@code array_to_vector}, then a UDF calling {@code DenseMatrix.multiply(vector)} plus the bias,
 *       writing a Spark ML vector: the MLlib way;
 *   <li>{@code linear}, {@code linear-columns}: {@link ModuleTransformer} with the {@code array} and {@code columns}
 *       output layouts; {@code linear-rows}: the array layout taking Spark's rows instead of the columnar batches.
 *       These write as the job does by default ({@link ColumnarParquetWriter}, standard three-level lists);
 *       {@code linear-two-level} writes the array layout as two-level lists (the job's
 *       {@code output.parquet-lists: two-level}); {@code linear-spark-writer} and
 *       {@code linear-columns-spark-writer} write through Spark's writer as the job does with
 *       {@code output.parquet-writer: spark} ({@link ParquetOutput}: three-level lists, no dictionary on the
 *       computed columns); {@code linear-spark-reader} is {@code linear} with Spark's reader decoding the feature
 *       column too ({@code input.parquet-reader: spark}), where {@code linear} decodes it with spark-linear's own
 *       Parquet page reader;
 *   <li>{@code mlp}: {@link ModuleTransformer} over {@code Sequential(Linear(in, 256), ReLU(), Linear(256, out))},
 *       written as {@code linear} is; {@code udf-mlp}: a per-row Java UDF computing the same MLP with the same
 *       weights, as {@code udf} computes the Linear.
 * </ul>
 *
 * <p>For experiments, {@code --spark-conf "k=v;k=v"} adds session settings and {@code --write-options "k=v;k=v"}
 * adds Parquet writer options to every contender.
 */
public final class EndToEnd {
  private static final List<String> ALL_CONTENDERS =
      List.of("read", "floor", "floor-columns", "floor-columnar", "udf", "mllib", "linear", "linear-columns",
          "linear-rows", "linear-two-level", "linear-spark-writer", "linear-columns-spark-writer", "linear-spark-reader", "mlp",
          "udf-mlp");
  /** The hidden width of the {@code mlp} contenders, as in the head: in -> 256 -> ReLU -> out. */
  private static final int MLP_HIDDEN = 256;

  private final SparkSession spark;
  private final Linear linear;
  private final Sequential mlp;
  private final int in;
  private final int out;
  private final float[] weight;
  private final float[] bias;
  private final Map<String, String> writeOptions = new LinkedHashMap<>();

  private EndToEnd(SparkSession spark, Linear linear, Sequential mlp) {
    this.spark = spark;
    this.linear = linear;
    this.mlp = mlp;
    this.in = linear.inFeatures();
    this.out = linear.outFeatures();
    this.weight = linear.weight().toArray();
    this.bias = linear.bias().orElseThrow().toArray();
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> options = new LinkedHashMap<>();
    Map<String, String> inputs = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--")) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("Missing value for " + args[i]);
        }
        options.put(args[i].substring(2), args[++i]);
      } else {
        int eq = args[i].indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("Invalid input: '" + args[i] + "' (expected LABEL=PATH)");
        }
        inputs.put(args[i].substring(0, eq), args[i].substring(eq + 1));
      }
    }
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("No input given: name at least one LABEL=PATH");
    }
    String[] shape = required(options, "shape").split("x");
    int in = Integer.parseInt(shape[0]);
    int out = Integer.parseInt(shape[1]);
    List<String> contenders = List.of(options.getOrDefault("contenders", String.join(",", ALL_CONTENDERS)).split(","));
    for (String contender : contenders) {
      if (!ALL_CONTENDERS.contains(contender)) {
        throw new IllegalArgumentException("Unknown contender: '" + contender + "' (known: " + ALL_CONTENDERS + ")");
      }
    }
    String warmup = options.getOrDefault("warmup", "full");
    int passes = Integer.parseInt(options.getOrDefault("passes", "1"));
    Path work = Path.of(required(options, "work"));
    Path results = Path.of(required(options, "results"));
    long seed = Long.parseLong(options.getOrDefault("seed", "7"));

    Linear linear = new Linear(in, out, true, seed);
    Sequential mlp = new Sequential(
        new Linear(in, MLP_HIDDEN, true, seed + 1), new ReLU(), new Linear(MLP_HIDDEN, out, true, seed + 2));
    if (options.containsKey("weights-json")) {
      writeWeights(linear, Path.of(options.get("weights-json")));
    }
    SparkSession.Builder builder = SparkSession.builder();
    pairs(options.getOrDefault("spark-conf", "")).forEach(builder::config);
    SparkSession spark = builder
        .master(options.getOrDefault("master", "local[2]"))
        .appName("spark-linear-e2e")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      System.out.printf(Locale.ROOT, "e2e: shape %dx%d, java %s, spark %s, %s, kernel %s, warm-up %s, %d timed pass(es)%n",
          in, out, System.getProperty("java.version"), spark.version(), spark.sparkContext().master(),
          LinearKernels.create(linear.weight(), linear.bias().orElse(null)).name(), warmup, passes);
      EndToEnd e2e = new EndToEnd(spark, linear, mlp);
      e2e.writeOptions.putAll(pairs(options.getOrDefault("write-options", "")));
      e2e.run(contenders, inputs, warmup, passes, work, results);
    } finally {
      spark.stop();
    }
  }

  private void run(List<String> contenders, Map<String, String> inputs, String warmup, int passes, Path work,
      Path results) throws IOException {
    Map<String, Long> rows = new LinkedHashMap<>();
    inputs.forEach((label, path) -> rows.put(label, spark.read().parquet(path).count()));
    String first = inputs.values().iterator().next();
    for (String contender : contenders) {
      switch (warmup) {
        case "full" -> write(contender, first, work.resolve(contender));
        case "file" -> write(contender, firstFile(first), work.resolve(contender));
        case "none" -> { }
        default -> throw new IllegalArgumentException("Invalid --warmup: '" + warmup + "' (full, file or none)");
      }
    }
    // Round-robin over the contenders, so that a burst of other work on the machine does not land on one of them only.
    Map<String, List<Double>> seconds = new LinkedHashMap<>();
    for (int pass = 0; pass < passes; pass++) {
      for (Map.Entry<String, String> input : inputs.entrySet()) {
        for (String contender : contenders) {
          double s = write(contender, input.getValue(), work.resolve(contender));
          seconds.computeIfAbsent(input.getKey() + "\t" + contender, k -> new ArrayList<>()).add(s);
        }
      }
    }
    for (Map.Entry<String, List<Double>> entry : seconds.entrySet()) {
      String label = entry.getKey().substring(0, entry.getKey().indexOf('\t'));
      String contender = entry.getKey().substring(label.length() + 1);
      double best = entry.getValue().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
      long n = rows.get(label);
      StringBuilder all = new StringBuilder();
      entry.getValue().forEach(
          s -> all.append(all.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.3f", s)));
      System.out.printf(Locale.ROOT, "e2e: %-8s %-15s %,12d rows %8.2f s %,12.0f rows/s  (passes: %s s)%n",
          label, contender, n, best, n / best, all);
      Files.writeString(results, String.format(Locale.ROOT, "%s\t%s\t%d\t%.3f\t%.0f\t%s%n", label, contender, n,
          best, n / best, all), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
    contenders.forEach(contender -> deleteRecursively(work.resolve(contender)));
  }

  /** One pass: read, transform, write into a fresh folder; the seconds it took, planning included. */
  private double write(String contender, String input, Path output) {
    deleteRecursively(output);
    long start = System.nanoTime();
    Dataset<Row> result = planFor(contender).apply(spark.read().parquet(input));
    if (contender.equals("read")) {
      result.write().format("noop").mode(SaveMode.Overwrite).save();
    } else if ((contender.startsWith("linear") && !contender.endsWith("-spark-writer"))
        || contender.equals("floor-columnar") || contender.equals("mlp")) {
      // As the job writes by default: the columnar writer, lists in the configured layout.
      ParquetLists lists = contender.equals("linear-two-level") ? ParquetLists.TWO_LEVEL : ParquetLists.THREE_LEVEL;
      ColumnarParquetWriter.write(result, output.toString(), lists, writeOptions);
    } else if (contender.startsWith("linear")) {
      // As the job writes with output.parquet-writer: spark (no dictionary on the computed columns, three-level lists).
      ParquetLists lists = ParquetLists.THREE_LEVEL;
      List<String> computed = List.of(result.columns()).stream().filter(c -> !c.equals("id")).toList();
      Map<String, String> options = new LinkedHashMap<>(ParquetOutput.dictionaryOff(result.schema(), computed, lists));
      options.putAll(writeOptions);
      ParquetOutput.withLists(spark, lists, () -> {
        result.write().options(options).mode(SaveMode.ErrorIfExists).parquet(output.toString());
        return null;
      });
    } else {
      result.write().options(writeOptions).mode(SaveMode.ErrorIfExists).parquet(output.toString());
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private Function<Dataset<Row>, Dataset<Row>> planFor(String contender) {
    return switch (contender) {
      case "read" -> data -> data.select(functions.col("id"), functions.col("features"));
      case "floor", "floor-columnar" ->
          data -> data.select(functions.col("id"), sameWidth(functions.col("features")).as("output"));
      case "floor-columns" -> data -> {
        List<Column> columns = new ArrayList<>();
        columns.add(functions.col("id"));
        for (int o = 0; o < out; o++) {
          columns.add(functions.col("features").getItem(o).as("output_" + o));
        }
        return data.select(columns.toArray(new Column[0]));
      };
      case "udf" -> data -> data.select(functions.col("id"),
          functions.udf(rowProduct(weight, bias, in, out), DataTypes.createArrayType(DataTypes.FloatType, false))
              .apply(functions.col("features")).as("output"));
      case "mllib" -> data -> data.select(functions.col("id"),
          functions.udf(matrixProduct(weight, bias, in, out), SQLDataTypes.VectorType())
              .apply(org.apache.spark.ml.functions.array_to_vector(functions.col("features"))).as("output"));
      case "linear", "linear-spark-writer" -> data -> transformer(OutputLayout.ARRAY).transform(data);
      case "linear-columns", "linear-columns-spark-writer" ->
          data -> transformer(OutputLayout.COLUMNS).transform(data);
      case "linear-rows" -> data -> transformer(OutputLayout.ARRAY).setColumnarInput(false).transform(data);
      case "linear-two-level" -> data -> transformer(OutputLayout.ARRAY).transform(data);
      case "linear-spark-reader" ->
          data -> transformer(OutputLayout.ARRAY).setParquetReader(ParquetReaderKind.SPARK).transform(data);
      case "mlp" -> data -> new ModuleTransformer(mlp, in, out).setInputCol("features").setOutputCol("output")
          .setKeepCols("id").setOutputLayout(OutputLayout.ARRAY).transform(data);
      case "udf-mlp" -> data -> data.select(functions.col("id"),
          functions.udf(rowMlp(mlp), DataTypes.createArrayType(DataTypes.FloatType, false))
              .apply(functions.col("features")).as("output"));
      default -> throw new IllegalArgumentException("Unknown contender: " + contender);
    };
  }

  /** An {@code out}-wide array made from the features without arithmetic: the features themselves, or a slice. */
  private Column sameWidth(Column features) {
    if (out > in) {
      throw new IllegalArgumentException("The floor needs out <= in, got " + in + "x" + out);
    }
    return out == in ? features : functions.slice(features, 1, out);
  }

  private ModuleTransformer transformer(OutputLayout layout) {
    return new ModuleTransformer(linear).setInputCol("features").setOutputCol("output").setKeepCols("id")
        .setOutputLayout(layout);
  }

  /** The UDF a Spark user writes: unbox the row's features, then a plain loop over a row-major weight. */
  static UDF1<scala.collection.Seq<Float>, float[]> rowProduct(float[] weight, float[] bias, int in, int out) {
    return features -> {
      float[] x = new float[in];
      for (int k = 0; k < in; k++) {
        x[k] = features.apply(k);
      }
      float[] y = new float[out];
      for (int o = 0; o < out; o++) {
        float sum = bias[o];
        int row = o * in;
        for (int k = 0; k < in; k++) {
          sum += weight[row + k] * x[k];
        }
        y[o] = sum;
      }
      return y;
    };
  }

  /**
   * The UDF a Spark user writes for {@code Linear -> ReLU -> Linear}: unbox the row's features, then plain loops over
   * row-major weights, the hidden values in an array of the row's own.
   */
  static UDF1<scala.collection.Seq<Float>, float[]> rowMlp(Sequential mlp) {
    Linear first = (Linear) mlp.get(0);
    Linear second = (Linear) mlp.get(2);
    int in = first.inFeatures();
    int hidden = first.outFeatures();
    int out = second.outFeatures();
    float[] w1 = first.weight().toArray();
    float[] b1 = first.bias().orElseThrow().toArray();
    float[] w2 = second.weight().toArray();
    float[] b2 = second.bias().orElseThrow().toArray();
    return features -> {
      float[] x = new float[in];
      for (int k = 0; k < in; k++) {
        x[k] = features.apply(k);
      }
      float[] h = new float[hidden];
      for (int j = 0; j < hidden; j++) {
        float sum = b1[j];
        int row = j * in;
        for (int k = 0; k < in; k++) {
          sum += w1[row + k] * x[k];
        }
        h[j] = sum < 0 ? 0f : sum;
      }
      float[] y = new float[out];
      for (int o = 0; o < out; o++) {
        float sum = b2[o];
        int row = o * hidden;
        for (int j = 0; j < hidden; j++) {
          sum += w2[row + j] * h[j];
        }
        y[o] = sum;
      }
      return y;
    };
  }

  /** The MLlib way: {@code DenseMatrix.multiply(vector)} (BLAS gemv, in double), then the bias. */
  static UDF1<Vector, Vector> matrixProduct(float[] weight, float[] bias, int in, int out) {
    double[] values = new double[weight.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = weight[i];
    }
    DenseMatrix matrix = new DenseMatrix(out, in, values, true); // isTransposed: values are row-major [out, in]
    double[] b = new double[out];
    for (int o = 0; o < out; o++) {
      b[o] = bias[o];
    }
    return features -> {
      DenseVector y = matrix.multiply(features);
      double[] v = y.values();
      for (int o = 0; o < out; o++) {
        v[o] += b[o];
      }
      return y;
    };
  }

  /** The layer's weight and bias as JSON, for the contenders outside this JVM (DuckDB). */
  static void writeWeights(Linear linear, Path file) throws IOException {
    StringBuilder json = new StringBuilder();
    json.append("{\"in\": ").append(linear.inFeatures()).append(", \"out\": ").append(linear.outFeatures());
    json.append(", \"weight\": [");
    Tensor w = linear.weight();
    for (int o = 0; o < linear.outFeatures(); o++) {
      json.append(o == 0 ? "[" : ", [");
      for (int k = 0; k < linear.inFeatures(); k++) {
        json.append(k == 0 ? "" : ", ").append(Float.toString(w.get(o, k)));
      }
      json.append(']');
    }
    json.append("], \"bias\": [");
    Tensor b = linear.bias().orElseThrow();
    for (int o = 0; o < linear.outFeatures(); o++) {
      json.append(o == 0 ? "" : ", ").append(Float.toString(b.get(o)));
    }
    json.append("]}\n");
    Files.writeString(file, json.toString(), StandardCharsets.UTF_8);
  }

  private static String firstFile(String folder) {
    try (Stream<Path> files = Files.list(Path.of(folder))) {
      return files.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().findFirst()
          .orElseThrow(() -> new IllegalArgumentException("No Parquet file in " + folder)).toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + folder, e);
    }
  }

  private static void deleteRecursively(Path path) {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + path, e);
    }
  }

  /** {@code k=v;k=v} as an ordered map. */
  private static Map<String, String> pairs(String text) {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (String pair : text.split(";")) {
      if (!pair.isBlank()) {
        int eq = pair.indexOf('=');
        pairs.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
      }
    }
    return pairs;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      throw new IllegalArgumentException("Missing --" + name);
    }
    return value;
  }
}
