package dev.sparklinear.bench;

import dev.sparklinear.job.FitJob;
import dev.sparklinear.job.FitSummary;
import dev.sparklinear.job.config.JobConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.ml.regression.LinearRegressionModel;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The fit benchmark: in one JVM and one {@code local[2]} session, full-batch training of a Linear on the same Parquet
 * features and label by spark-linear's fit (MSE, SGD with momentum, {@code epochs} epochs, one pass over the cached
 * data per epoch) and by Spark MLlib's {@code LinearRegression} (L-BFGS, {@code epochs} iterations, no
 * standardization, no regularization, tolerance 0 so that it runs them all, on the same data cached as vectors). Each
 * runs twice and the second (warm) run is timed. Appends one tab-separated line per contender to the results file:
 * {@code contender, rows, passes, seconds, seconds per pass, final loss}.
 *
 * <pre>
 * FitBenchmark --data DIR --dim 64 --epochs 10 --work WORKDIR --results fit.tsv
 * </pre>
 *
 * <p>A pass is one Spark job over the data: spark-linear's epochs, and MLlib's L-BFGS evaluations of the loss and
 * gradient (counted with a listener; its line search may take more than one per iteration). spark-linear's final loss
 * is the mean loss of its last epoch (before that epoch's step); MLlib's is the mean squared error of its model on the
 * data, from its training summary.
 */
public final class FitBenchmark {
  private FitBenchmark() {}

  public static void main(String[] args) throws IOException {
    String data = null;
    int dim = 64;
    int epochs = 10;
    Path work = null;
    Path results = null;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--data" -> data = args[i + 1];
        case "--dim" -> dim = Integer.parseInt(args[i + 1]);
        case "--epochs" -> epochs = Integer.parseInt(args[i + 1]);
        case "--work" -> work = Path.of(args[i + 1]);
        case "--results" -> results = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("Unknown argument " + args[i]);
      }
    }
    if (data == null || work == null || results == null) {
      throw new IllegalArgumentException("Usage: FitBenchmark --data DIR [--dim 64] [--epochs 10] --work DIR"
          + " --results FILE");
    }
    SparkSession spark = SparkSession.builder().master("local[2]").appName("spark-linear fit benchmark")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    AtomicInteger jobs = new AtomicInteger();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onJobEnd(SparkListenerJobEnd jobEnd) {
        jobs.incrementAndGet();
      }
    });
    try {
      long rows = spark.read().parquet(data).count();
      // spark-linear: the fit command's own job, twice; the second is timed.
      FitSummary summary = null;
      for (int run = 0; run < 2; run++) {
        String yaml = """
            module: {in-features: %d, out-features: 1, init-seed: 3}
            input: {path: %s, column: features}
            output: {path: %s, mode: overwrite}
            fit: {label-column: label, loss: mse, optimizer: {type: sgd, lr: 0.1, momentum: 0.9}, epochs: %d}
            """.formatted(dim, data, work.resolve("fit-" + run), epochs);
        summary = new FitJob(JobConfig.parse(yaml, "fit-benchmark.yaml", List.of()), spark, false).fit();
      }
      double fitSeconds = summary.epochSeconds().stream().mapToDouble(Double::doubleValue).sum();
      append(results, "spark-linear fit", rows, epochs, fitSeconds, summary.finalLoss());
      System.out.printf(Locale.ROOT, "spark-linear fit: %d epochs in %.2f s (%.3f s per epoch; read once in %.2f s),"
          + " loss %.6g -> %.6g%n", epochs, fitSeconds, fitSeconds / epochs, summary.readSeconds(),
          summary.losses().get(0), summary.finalLoss());

      // MLlib: the same rows as vectors, cached, then LinearRegression twice; the second is timed.
      Dataset<Row> vectors = spark.read().parquet(data)
          .select(org.apache.spark.ml.functions.array_to_vector(functions.col("features")).as("features"),
              functions.col("label"))
          .cache();
      vectors.count();
      LinearRegression regression = new LinearRegression().setSolver("l-bfgs").setMaxIter(epochs)
          .setStandardization(false).setRegParam(0).setElasticNetParam(0).setTol(0);
      LinearRegressionModel model = null;
      double seconds = 0;
      int passes = 0;
      for (int run = 0; run < 2; run++) {
        int before = jobs.get();
        long start = System.nanoTime();
        model = regression.fit(vectors);
        seconds = (System.nanoTime() - start) / 1e9;
        passes = jobs.get() - before;
      }
      int iterations = model.summary().totalIterations();
      double mse = model.summary().meanSquaredError();
      append(results, "mllib LinearRegression l-bfgs", rows, passes, seconds, mse);
      System.out.printf(Locale.ROOT, "MLlib LinearRegression: %d iterations, %d Spark jobs in %.2f s (%.3f s per"
          + " iteration, %.3f s per job), training MSE %.6g%n", iterations, passes, seconds, seconds / iterations,
          seconds / passes, mse);
      System.out.printf(Locale.ROOT, "per pass over the data: spark-linear %.2fx MLlib's speed%n",
          (seconds / passes) / (fitSeconds / epochs));
      vectors.unpersist(true);
    } finally {
      spark.stop();
    }
  }

  private static void append(Path results, String contender, long rows, int passes, double seconds, double loss)
      throws IOException {
    Files.writeString(results, String.format(Locale.ROOT, "%s\t%d\t%d\t%.3f\t%.4f\t%.8g%n", contender, rows, passes,
        seconds, seconds / passes, loss), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
