// Writes data/seed/features.parquet: the seed example's input, [1, 2, 3, 4] (which the weight
// [[1,2,3,4],[2,3,4,5],[3,4,5,6]] maps to [30, 40, 50]) and two rows whose outputs are easy to check by hand.
//
// Regenerate from the repository root, after `mvn -B -DskipTests package`:
//   java -cp "spark-job/target/lib/*" --add-opens=java.base/sun.nio.ch=ALL-UNNAMED data/seed/MakeSeedData.java
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

public class MakeSeedData {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    StructType schema = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)});
    List<Row> rows = List.of(
        RowFactory.create(1L, Arrays.asList(1f, 2f, 3f, 4f)),   // -> [30, 40, 50]
        RowFactory.create(2L, Arrays.asList(1f, 0f, 0f, 0f)),   // -> [1, 2, 3], the first column of W
        RowFactory.create(3L, Arrays.asList(0f, 0f, 0f, 0f)));  // -> [0, 0, 0]
    spark.createDataFrame(rows, schema).coalesce(1).write().mode("overwrite").parquet("data/seed/features.parquet");
    spark.stop();
  }
}
