package dev.sparklinear.bench;

import dev.sparklinear.core.nn.Linear;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * A per-row Java UDF job as a whole command: what a Spark user writes for {@code y = x W^T + b} without spark-linear.
 * Reads {@code id} and the {@code features} array, computes the layer row by row ({@link EndToEnd#rowProduct}, the
 * {@code udf} contender of the warm benchmark) and writes {@code id, output} as Parquet with Spark's writer. The layer
 * is the job's {@code init-seed} one: {@code new Linear(in, out, true, seed)}.
 *
 * <pre>
 * java &lt;flags&gt; -cp bench.jar:job.jar dev.sparklinear.bench.RowUdfJob IN OUT [IN_FEATURES OUT_FEATURES SEED]
 * java ... dev.sparklinear.bench.RowUdfJob --weights-json FILE [IN_FEATURES OUT_FEATURES SEED]
 * </pre>
 *
 * The second form only writes the layer's weights as JSON, for DuckDB's command. The layer defaults to 64 → 16 with
 * seed 7, as in {@code conf/random-64x16.yaml}.
 */
public final class RowUdfJob {
  private RowUdfJob() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2 && args.length != 5) {
      throw new IllegalArgumentException(
          "Usage: RowUdfJob IN OUT [IN_FEATURES OUT_FEATURES SEED] (got " + args.length + " arguments)");
    }
    int in = args.length == 5 ? Integer.parseInt(args[2]) : 64;
    int out = args.length == 5 ? Integer.parseInt(args[3]) : 16;
    long seed = args.length == 5 ? Long.parseLong(args[4]) : 7;
    Linear linear = new Linear(in, out, true, seed);
    if (args[0].equals("--weights-json")) {
      EndToEnd.writeWeights(linear, Path.of(args[1]));
      return;
    }
    float[] weight = linear.weight().toArray();
    float[] bias = linear.bias().orElseThrow().toArray();
    SparkSession spark = ColdSessions.create("row-udf");
    try {
      spark.read().parquet(args[0])
          .select(functions.col("id"),
              functions.udf(EndToEnd.rowProduct(weight, bias, in, out),
                  DataTypes.createArrayType(DataTypes.FloatType, false)).apply(functions.col("features")).as("output"))
          .write().mode(SaveMode.Overwrite).parquet(args[1]);
    } finally {
      spark.stop();
    }
  }
}
