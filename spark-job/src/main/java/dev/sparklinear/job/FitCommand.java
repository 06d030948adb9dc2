package dev.sparklinear.job;

import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.report.ReportPage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code spark-linear fit CONFIG [--set key=value ...] [--report]}: trains the config's module on its input's features
 * and labels ({@link FitJob}) and writes the checkpoint and the summary to {@code output.path}.
 */
@Command(name = "fit", mixinStandardHelpOptions = true,
    description = "Trains the module of a config file on its input's labels (the fit section; see docs/config.md)"
        + " and writes OUTPUT/model.safetensors, OUTPUT/optimizer.safetensors and the run summary.")
final class FitCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CONFIG", description = "the job config, e.g. conf/fit-example.yaml")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "override a config key, e.g. --set fit.epochs=50 (repeatable)")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "WARN",
      description = "log level for Spark and the job (default ${DEFAULT-VALUE})")
  String logLevel;

  @Option(names = "--stacktrace", description = "print the full stack trace of a failure")
  boolean stackTrace;

  @Option(names = "--report", description = "also write OUTPUT/" + ReportPage.FILE_NAME
      + ": the summary and the loss curve")
  boolean report;

  @Override
  public Integer call() {
    JobConfig jobConfig = JobConfig.load(config, overrides);
    SparkLinear.quietLogs(logLevel);
    SparkSession spark = Sessions.create(jobConfig.sparkConf());
    try {
      FitSummary summary = new FitJob(jobConfig, spark, report).fit();
      System.out.println(summary.toText());
      return 0;
    } finally {
      spark.stop();
    }
  }
}
