package dev.sparklinear.job;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Makes the job's Spark session. Without a master from spark-submit or the config, the job runs in local mode on
 * every core, with embedded Spark: nothing to install. Settings from the config's {@code spark.*} keys win over the
 * defaults here; spark-submit's own settings win over both.
 */
final class Sessions {
  static final String DEFAULT_MASTER = "local[*]";

  private Sessions() {}

  static SparkSession create(Map<String, String> configured) {
    return create(conf(configured));
  }

  /** The session's settings: spark-submit's, then {@code configured}, then the defaults here. */
  static SparkConf conf(Map<String, String> configured) {
    SparkConf conf = new SparkConf(); // picks up spark.* system properties, which spark-submit sets
    configured.forEach(conf::setIfMissing);
    conf.setIfMissing("spark.app.name", "spark-linear");
    conf.setIfMissing("spark.ui.showConsoleProgress", "true");
    if (!conf.contains("spark.master")) {
      conf.setMaster(DEFAULT_MASTER);
    }
    if (conf.get("spark.master").startsWith("local")) {
      // A local run stays on this machine: no web UI, driver bound to loopback.
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    }
    return conf;
  }

  /** The session for {@code conf} (made by {@link #conf}). */
  static SparkSession create(SparkConf conf) {
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
