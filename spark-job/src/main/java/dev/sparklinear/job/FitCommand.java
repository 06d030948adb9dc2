package dev.sparklinear.job;

import dev.sparklinear.job.report.ReportPage;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code spark-linear fit CONFIG [--set key=value ...] [--report]}: trains the config's module on its input's features
 * and labels ({@link FitJob}) and writes the checkpoint and the summary to {@code output.path}.
 */
@Command(name = "fit", mixinStandardHelpOptions = true,
    description = "Trains the module of a config file on its input's labels (the fit section; see docs/config.md)"
        + " and writes OUTPUT/model.safetensors, OUTPUT/optimizer.safetensors and the run summary.")
final class FitCommand implements Callable<Integer> {
  @Mixin
  JobOptions job;

  @Option(names = "--report", description = "also write OUTPUT/" + ReportPage.FILE_NAME
      + ": the summary and the loss curve")
  boolean report;

  @Override
  public Integer call() {
    return job.inSession((config, spark) -> {
      System.out.println(new FitJob(config, spark, report).fit().toText());
      return 0;
    });
  }
}
