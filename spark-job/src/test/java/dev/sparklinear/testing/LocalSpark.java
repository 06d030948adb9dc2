package dev.sparklinear.testing;

import com.holdenkarau.spark.testing.JavaDataFrameSuiteBase;
import com.holdenkarau.spark.testing.SharedJavaSparkContext;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.util.ArrowUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Base class for Spark tests: one {@code local[2]} session per test class (UI off, driver on 127.0.0.1), set up
 * through spark-testing-base so that its DataFrame assertions are at hand, and a check after the class that the Arrow
 * memory every job took was given back.
 */
public abstract class LocalSpark {
  protected static Suite suite;
  protected static SparkSession spark;

  /** spark-testing-base's suite, without Hive, on a small local master. */
  public static final class Suite extends JavaDataFrameSuiteBase {
    @Override
    public boolean enableHiveSupport() {
      return false;
    }

    @Override
    public SparkConf conf() {
      return new SparkConf()
          .setMaster("local[2]")
          .setAppName("spark-linear-test")
          .set("spark.ui.enabled", "false")
          .set("spark.driver.host", "127.0.0.1")
          .set("spark.driver.bindAddress", "127.0.0.1")
          .set("spark.sql.shuffle.partitions", "2")
          .set("spark.ui.showConsoleProgress", "false");
    }
  }

  @BeforeAll
  static void startSpark() {
    suite = new Suite();
    suite.runBefore();
    spark = suite.spark();
  }

  @AfterAll
  static void stopSpark() {
    try {
      assertNoArrowMemoryHeld();
    } finally {
      SharedJavaSparkContext.runAfterClass();
    }
  }

  /**
   * Fails when any partition's allocator is still open or any Arrow memory is still allocated. After a failed job,
   * Spark kills the job's other running tasks asynchronously and their completion listeners free their memory when
   * they end, so this waits for that (a bounded poll, up to 30 s) before it looks.
   */
  protected static void assertNoArrowMemoryHeld() {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (!ArrowUtils.rootAllocator().getChildAllocators().isEmpty() && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20));
    }
    assertThat(ArrowUtils.rootAllocator().getChildAllocators())
        .as("partition allocators still open")
        .isEmpty();
    assertThat(ArrowUtils.rootAllocator().getAllocatedMemory()).as("Arrow bytes still allocated").isZero();
  }
}
