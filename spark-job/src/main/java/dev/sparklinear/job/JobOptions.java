package dev.sparklinear.job;

import dev.sparklinear.job.config.JobConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What {@code run} and {@code fit} share, as a picocli mixin: the config file and its {@code --set} overrides, the log
 * level, {@code --stacktrace} (read by {@link SparkLinear#execute}), and the Spark session a command runs in.
 */
final class JobOptions {
  @Parameters(index = "0", paramLabel = "CONFIG", description = "the job config, e.g. conf/seed-example.yaml")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "override a config key, e.g. --set block.max-rows=1024 (repeatable)")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "WARN",
      description = "log level for Spark and the job (default ${DEFAULT-VALUE})")
  String logLevel;

  @Option(names = "--stacktrace", description = "print the full stack trace of a failure")
  boolean stackTrace;

  /**
   * Loads the config with its overrides, sets the log level, and runs {@code command} in a Spark session made from the
   * config's {@code spark.*} keys, stopped however the command ends.
   */
  <T> T inSession(BiFunction<JobConfig, SparkSession, T> command) {
    return inSession(command, false);
  }

  /**
   * As {@link #inSession(BiFunction)}; with {@code warmKernels}, in local mode the module's kernels are warmed up
   * while the session starts ({@link KernelWarmUp}).
   */
  <T> T inSession(BiFunction<JobConfig, SparkSession, T> command, boolean warmKernels) {
    JobConfig jobConfig = JobConfig.load(config, overrides);
    SparkLinear.quietLogs(logLevel);
    SparkConf conf = Sessions.conf(jobConfig.sparkConf());
    KernelWarmUp warmUp = warmKernels ? KernelWarmUp.start(jobConfig, conf.get("spark.master")) : KernelWarmUp.NONE;
    try {
      SparkSession spark = Sessions.create(conf);
      try {
        warmUp.stopAtFirstJob(spark.sparkContext());
        return command.apply(jobConfig, spark);
      } finally {
        spark.stop();
      }
    } finally {
      warmUp.stop();
    }
  }
}
