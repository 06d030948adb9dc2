package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.tensor.Tensor;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Broadcast ids start again at 0 in every SparkContext, so a JVM that runs one context after another (the command
 * line run in-process, a notebook, a service) must not hand a later job the module an earlier context broadcast
 * under the same id.
 */
class BroadcastModuleTest {
  @Test
  void aLaterSparkContextGetsItsOwnModuleForTheSameBroadcastId() {
    assertThat(firstOutputWithWeight(2f)).containsExactly(2f);
    assertThat(firstOutputWithWeight(3f)).as("the second context's layer, not the first one's").containsExactly(3f);
  }

  /** Runs a 1 -> 1 layer of weight {@code w} over the row {@code [1]} in a fresh local context. */
  private static List<Float> firstOutputWithWeight(float w) {
    SparkSession spark = SparkSession.builder()
        .master("local[1]")
        .appName("executor-modules")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    try {
      Linear linear = new Linear(1, 1, false);
      linear.setWeight(new Parameter(Tensor.of(new float[][] {{w}})));
      StructType schema = new StructType()
          .add("features", DataTypes.createArrayType(DataTypes.FloatType));
      Row row = RowFactory.create((Object) new float[] {1f});
      Row out = new LinearTransformer(linear).setInputCol("features").setOutputCol("y")
          .transform(spark.createDataFrame(List.of(row), schema))
          .select("y").first();
      return out.getList(0);
    } finally {
      spark.stop();
    }
  }
}
