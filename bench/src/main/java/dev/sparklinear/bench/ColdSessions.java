package dev.sparklinear.bench;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of the whole-command peers ({@link SparkCopyJob}, {@link RowUdfJob}): the defaults a user of
 * {@code bin/spark-linear run} gets (local on every core, no web UI but the console progress bar, driver bound to
 * loopback), so that a cold command of theirs and one of the job's start the same Spark. Their logging comes from
 * {@code bench/e2e/log4j2-warn.properties} ({@code -Dlog4j2.configurationFile}), warnings only, as the job logs by
 * default.
 */
final class ColdSessions {
  private ColdSessions() {}

  static SparkSession create(String appName) {
    SparkConf conf = new SparkConf()
        .setMaster("local[*]")
        .setAppName(appName)
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "true")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1");
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
