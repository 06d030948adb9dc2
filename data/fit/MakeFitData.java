// Writes data/fit/train.parquet: the fit example's training data. 2,000 rows of 8 float features, x_j uniform in
// [-2, 2], and two labels: y = sin(x_0) + x_1 * x_2 / 2 - 0.3 x_3 + 0.1 + noise (normal, sd 0.05), a smooth
// non-linear target a small MLP fits far better than a Linear; and kind, a class index in {0, 1, 2} (the sign pattern
// of x_0 + x_4 and x_1 - x_5), for cross-entropy. Seeded, so the file is the same on every run.
//
// Regenerate from the repository root, after `mvn -B -DskipTests package`:
//   java -cp "spark-job/target/lib/*" --add-opens=java.base/sun.nio.ch=ALL-UNNAMED data/fit/MakeFitData.java
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

public class MakeFitData {
  public static void main(String[] args) throws IOException {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("y", DataTypes.DoubleType, false)
        .add("kind", DataTypes.LongType, false);
    SplittableRandom random = new SplittableRandom(20261130);
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 2000; id++) {
      List<Float> x = new ArrayList<>();
      for (int j = 0; j < 8; j++) {
        x.add((float) random.nextDouble(-2, 2));
      }
      double noise = 0.05 * gaussian(random);
      double y = Math.sin(x.get(0)) + x.get(1) * x.get(2) / 2 - 0.3 * x.get(3) + 0.1 + noise;
      long kind = x.get(0) + x.get(4) < 0 ? 0 : x.get(1) - x.get(5) < 0 ? 1 : 2;
      rows.add(RowFactory.create(id, x, y, kind));
    }
    spark.createDataFrame(rows, schema).coalesce(1).write().mode("overwrite").parquet("data/fit/train.parquet");
    spark.stop();
    // Keep only the data, under a fixed name: no _SUCCESS marker, no checksum files.
    Path dir = Path.of("data/fit/train.parquet");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.startsWith("part-") && name.endsWith(".parquet")) {
          Files.move(file, dir.resolve("part-00000.snappy.parquet"));
        } else {
          Files.delete(file);
        }
      }
    }
  }

  /** A standard normal value (Box-Muller). */
  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
