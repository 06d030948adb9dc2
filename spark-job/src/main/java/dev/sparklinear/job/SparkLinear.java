package dev.sparklinear.job;

import dev.sparklinear.core.hooks.NonFiniteValueException;
import dev.sparklinear.core.nn.StateDictLoadException;
import dev.sparklinear.core.weights.WeightFileException;
import dev.sparklinear.job.config.ConfigException;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.OutputFormat;
import dev.sparklinear.job.report.ReportPage;
import dev.sparklinear.spark.InvalidRowException;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The command line: {@code spark-linear run CONFIG [--set key=value ...]}, {@code spark-linear fit CONFIG ...} and
 * {@code spark-linear generate ...}.
 *
 * <p>The main class for spark-submit too: {@code spark-submit --class dev.sparklinear.job.SparkLinear
 * spark-linear-job.jar run conf/job.yaml}. Exit codes: 0 done, 1 the job failed, 2 bad command line or config.
 */
@Command(
    name = "spark-linear",
    mixinStandardHelpOptions = true,
    versionProvider = SparkLinear.Version.class,
    description = "Runs (and fits) a PyTorch-style Linear layer or head over Parquet feature files with Spark.",
    subcommands = {SparkLinear.Run.class, FitCommand.class, GenerateCommand.class})
public final class SparkLinear {
  static final int FAILED = 1;
  static final int BAD_INPUT = 2;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (what {@link #main} exits with). */
  public static int execute(String... args) {
    CommandLine commandLine = new CommandLine(new SparkLinear());
    commandLine.setExecutionExceptionHandler((e, line, parsed) -> report(e, line.getErr(), isSet(parsed, "--stacktrace")));
    return commandLine.execute(args);
  }

  private static boolean isSet(CommandLine.ParseResult parsed, String option) {
    CommandLine.ParseResult sub = parsed.subcommand();
    return sub != null && sub.hasMatchedOption(option);
  }

  /** Prints one clear message for a failure, the cause a user can act on rather than Spark's wrapping of it. */
  static int report(Throwable failure, PrintWriter err, boolean stackTrace) {
    Throwable cause = actionableCause(failure);
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    if (!isOurs(cause)) {
      // Spark's job-abort messages go on with the executor's stack trace; --stacktrace shows it all.
      message = message.lines().findFirst().orElse(message);
    }
    err.println("spark-linear: error: " + message);
    if (stackTrace) {
      failure.printStackTrace(err);
    } else if (cause == failure && !isOurs(cause)) {
      err.println("(run again with --stacktrace for details)");
    }
    err.flush();
    return cause instanceof ConfigException || cause instanceof PreflightException
        || cause instanceof WeightFileException || cause instanceof StateDictLoadException ? BAD_INPUT : FAILED;
  }

  private static Throwable actionableCause(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (isOurs(t)) {
        return t;
      }
    }
    return failure;
  }

  private static boolean isOurs(Throwable t) {
    return t instanceof ConfigException || t instanceof PreflightException || t instanceof InvalidRowException
        || t instanceof WeightFileException || t instanceof StateDictLoadException
        || t instanceof NonFiniteValueException || t instanceof FitDivergedException;
  }

  /** Keeps Spark's INFO chatter out of the terminal; the progress bar and warnings stay. */
  static void quietLogs(String level) {
    Configurator.setRootLevel(Level.toLevel(level, Level.WARN));
    if (Level.toLevel(level, Level.WARN).isLessSpecificThan(Level.INFO)) {
      return;
    }
    // Parquet and Hadoop warn about things a user cannot act on.
    Configurator.setLevel("org.apache.parquet", Level.ERROR);
    Configurator.setLevel("org.apache.hadoop", Level.ERROR);
    Configurator.setLevel("org.apache.spark.util.Utils", Level.ERROR);
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Runs the job described by a config file (see docs/config.md).")
  static final class Run implements Callable<Integer> {
    @Mixin
    JobOptions job;

    @Option(names = "--show", paramLabel = "N", defaultValue = "10",
        description = "print the first N output rows after the run (0: none; default ${DEFAULT-VALUE})")
    int show;

    @Option(names = "--report", description = "also write OUTPUT/" + ReportPage.FILE_NAME
        + ": the summary and a histogram of each output dimension")
    boolean report;

    @Override
    public Integer call() {
      return job.inSession((config, spark) -> {
        RunSummary summary = new LinearJob(config, spark, report).run();
        if (show > 0) {
          showOutput(spark, config, show);
        }
        System.out.println(summary.toText());
        return 0;
      }, true);
    }
  }

  /**
   * Prints the first {@code rows} output rows. Parquet output is read with the schema of its own footer, so that Spark
   * runs only the job that takes the rows, not a schema job before it.
   */
  private static void showOutput(SparkSession spark, JobConfig config, int rows) {
    String path = config.output().path();
    DataFrameReader reader = spark.read().format(config.output().format().configValue());
    if (config.output().format() == OutputFormat.PARQUET) {
      try {
        org.apache.hadoop.fs.Path output = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = output.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Optional<ParquetPreview> preview =
            ParquetPreview.of(fs, fs.globStatus(output), Map.of(), spark.sparkContext().hadoopConfiguration());
        if (preview.isPresent()) {
          reader = reader.schema(preview.get().schema());
        }
      } catch (IOException e) {
        // Spark infers the schema instead, and reports any real problem reading the output itself.
      }
    }
    reader.load(path).show(rows, false);
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = SparkLinear.class.getPackage().getImplementationVersion();
      return new String[] {"spark-linear " + (version == null ? "(development build)" : version)};
    }
  }
}
