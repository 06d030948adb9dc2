package dev.sparklinear.bench;

import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Spark's own minimal job, as a whole command: read a Parquet input and write it back, no compute. The fixed cost of
 * any Spark command on this machine (JVM, session, planning, one read and one write), timed by
 * {@code bench/e2e/cold.sh} against {@code bin/spark-linear run}.
 *
 * <pre>java &lt;Spark's flags&gt; -cp bench.jar:job.jar dev.sparklinear.bench.SparkCopyJob IN OUT</pre>
 */
public final class SparkCopyJob {
  private SparkCopyJob() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      throw new IllegalArgumentException("Usage: SparkCopyJob IN OUT (got " + args.length + " arguments)");
    }
    SparkSession spark = ColdSessions.create("spark-copy");
    try {
      spark.read().parquet(args[0]).write().mode(SaveMode.Overwrite).parquet(args[1]);
    } finally {
      spark.stop();
    }
  }
}
