package dev.sparklinear.job;

import dev.sparklinear.core.loss.BCEWithLogitsLoss;
import dev.sparklinear.core.loss.CrossEntropyLoss;
import dev.sparklinear.core.loss.Loss;
import dev.sparklinear.core.loss.MSELoss;
import dev.sparklinear.core.nn.BatchNorm1d;
import dev.sparklinear.core.nn.Dropout;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.nn.StateDictLoadException;
import dev.sparklinear.core.optim.Adam;
import dev.sparklinear.core.optim.AdamOptions;
import dev.sparklinear.core.optim.AdamW;
import dev.sparklinear.core.optim.Optimizer;
import dev.sparklinear.core.optim.OptimizerStateDict;
import dev.sparklinear.core.optim.SGD;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.WeightFileException;
import dev.sparklinear.job.config.FitConfig;
import dev.sparklinear.job.config.FitLoss;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.OptimizerConfig;
import dev.sparklinear.job.config.OutputMode;
import dev.sparklinear.job.report.ReportPage;
import dev.sparklinear.spark.GradientSum;
import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.spark.TrainingSet;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * One run of {@code spark-linear fit}: full-batch training of the config's module on the input's features and labels,
 * with torch's losses and optimizers, distributed over Spark.
 *
 * <p>The driver checks everything it can before any task runs (the module, the input's columns and types, the loss
 * against the output width, the optimizer's arguments with torch's checks, the output path, {@code fit.resume-from}),
 * then reads the input once into executor memory ({@link TrainingSet}). Each epoch sends the current parameters to
 * the tasks, adds up the partitions' loss and gradient sums in partition order, sets each parameter's gradient to the
 * gradient of the mean loss and takes one step of the core optimizer: the update {@code torch.optim} makes after
 * {@code loss.backward()} on the mean loss over all rows. The checkpoint ({@link FitCheckpoint}) and the summary are
 * written to a staging folder beside the output and moved into place only when all is written, so a failed fit
 * leaves nothing where its output is expected.
 *
 * <pre>{@code
 * FitSummary summary = new FitJob(JobConfig.load(Path.of("conf/fit-example.yaml"), List.of()), spark, false).fit();
 * }</pre>
 */
public final class FitJob {
  private final JobConfig config;
  private final SparkSession spark;
  private final boolean report;

  public FitJob(JobConfig config, SparkSession spark, boolean report) {
    this.config = config;
    this.spark = spark;
    this.report = report;
  }

  /**
   * Trains the module and writes the output.
   *
   * @throws PreflightException when the config, module, input or output are not right (no task has run), or the input
   *     has no valid row to train on
   * @throws FitDivergedException when the loss or the parameters become NaN or infinite
   */
  public FitSummary fit() {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    FitConfig fit = config.fit();
    if (fit == null) {
      throw new PreflightException(config.source(), List.of("The config has no fit section: add fit.label-column,"
          + " fit.loss, fit.optimizer and fit.epochs (see docs/config.md), or use 'spark-linear run' to run the module"
          + " as it is"));
    }
    List<String> problems = new ArrayList<>();
    LoadedModule loaded = ModuleLoader.load(config, hadoop, problems);
    checkSettings(fit, problems);
    LinearJob inputs = new LinearJob(config, spark);
    Dataset<Row> input = inputs.openInput(hadoop, problems);
    inputs.checkOutputPath(hadoop, problems);
    Loss<?> loss = lossOf(fit.loss());
    TrainingSet.Spec spec = null;
    Optimizer optimizer = null;
    if (loaded != null) {
      checkTrainable(loaded.module(), problems);
      spec = new TrainingSet.Spec(config.input().column(), config.input().columns(), fit.labelColumn(),
          loaded.inFeatures(), loaded.outFeatures(), fit.loss() == FitLoss.CROSS_ENTROPY, fit.loss().configValue(),
          config.invalidRows(), config.block().maxRows());
      if (fit.loss() == FitLoss.CROSS_ENTROPY && loaded.outFeatures() < 2) {
        problems.add("fit.loss is cross-entropy, which takes one logit per class, but the module has "
            + loaded.outFeatures() + " output; give the module one output per class (at least 2), or use"
            + " bce-with-logits for a single logit");
      }
      if (input != null) {
        try {
          TrainingSet.checkSchema(input.schema(), spec);
        } catch (IllegalArgumentException e) {
          problems.add(e.getMessage());
        }
      }
      if (fit.resumeFrom() != null) {
        resumeModule(fit, loaded.module(), hadoop, problems);
      }
      optimizer = optimizerOf(fit.optimizer(), loaded.module(), problems);
      if (optimizer != null && fit.resumeFrom() != null) {
        resumeOptimizer(fit, optimizer, hadoop, problems);
      }
    }
    if (!problems.isEmpty()) {
      throw new PreflightException(config.source(), problems);
    }

    Module module = loaded.module();
    List<Double> losses = new ArrayList<>();
    List<Double> epochSeconds = new ArrayList<>();
    long readStart = System.nanoTime();
    try (TrainingSet rows = TrainingSet.read(input, spec)) {
      TrainingSet.Counts counts = rows.counts();
      double readSeconds = (System.nanoTime() - readStart) / 1e9;
      if (counts.rowsUsed() == 0) {
        throw new PreflightException(config.source(), List.of("Input " + config.input().path() + " has no rows to"
            + " train on: " + counts.rowsRead() + " rows read" + (counts.invalidTotal() == 0 ? ""
            : ", all invalid (" + invalidText(counts.invalidRows()) + ")") + ". Check input.path and"
            + " fit.label-column"));
      }
      for (int epoch = 1; epoch <= fit.epochs(); epoch++) {
        long epochStart = System.nanoTime();
        GradientSum sum = rows.gradient(module, loss);
        double mean = sum.meanLoss();
        if (!Double.isFinite(mean)) {
          throw new FitDivergedException("The fit diverged: the mean loss is " + mean + " at epoch " + epoch
              + " of " + fit.epochs() + " (losses so far: " + losses + "). Lower fit.optimizer.lr, or check the"
              + " scale of the features and labels. Nothing was written to " + config.output().path() + ".");
        }
        step(module, optimizer, sum);
        losses.add(mean);
        epochSeconds.add((System.nanoTime() - epochStart) / 1e9);
      }
      checkFinite(module, fit);
      return writeOutput(module, optimizer, counts, losses, epochSeconds, readSeconds, loaded, input, spec, start,
          hadoop);
    }
  }

  /** Sets each parameter's gradient to that of the mean loss, in float32, and takes one optimizer step. */
  private static void step(Module module, Optimizer optimizer, GradientSum sum) {
    int index = 0;
    for (Parameter parameter : module.namedParameters().values()) {
      parameter.setGrad(Tensor.wrap(sum.meanGradient(index++), parameter.shape()));
    }
    optimizer.step();
    optimizer.zeroGrad();
  }

  private void checkFinite(Module module, FitConfig fit) {
    module.namedParameters().forEach((name, parameter) -> {
      for (float value : parameter.toArray()) {
        if (!Float.isFinite(value)) {
          throw new FitDivergedException("The fit diverged: parameter '" + name + "' holds " + value + " after the"
              + " last step of " + fit.epochs() + " epochs. Lower fit.optimizer.lr, or check the scale of the"
              + " features and labels. Nothing was written to " + config.output().path() + ".");
        }
      }
    });
  }

  private FitSummary writeOutput(Module module, Optimizer optimizer, TrainingSet.Counts counts, List<Double> losses,
      List<Double> epochSeconds, double readSeconds, LoadedModule loaded, Dataset<Row> input, TrainingSet.Spec spec,
      long start, Configuration hadoop) {
    OutputPlacement placement = OutputPlacement.staged(config.output().path(),
        config.output().mode() == OutputMode.OVERWRITE, hadoop);
    FitSummary summary;
    try {
      byte[] model = FitCheckpoint.model(module, config.module().weights().prefix());
      byte[] state = FitCheckpoint.optimizer(optimizer.stateDict(), config.fit().optimizer().typeName());
      write(model, new Path(placement.path(), FitCheckpoint.MODEL), hadoop);
      write(state, new Path(placement.path(), FitCheckpoint.OPTIMIZER), hadoop);
      Map<String, String> sha256 = new LinkedHashMap<>();
      sha256.put(FitCheckpoint.MODEL, ModuleLoader.sha256(model));
      sha256.put(FitCheckpoint.OPTIMIZER, ModuleLoader.sha256(state));
      if (config.invalidRows() == InvalidRowPolicy.QUARANTINE) {
        writeQuarantine(input, spec, hadoop);
      }
      summary = new FitSummary(counts.rowsRead(), counts.rowsUsed(), counts.partitions(), counts.blocks(),
          config.invalidRows().configValue(), counts.invalidRows(), config.fit().loss().configValue(),
          config.fit().optimizer().summary(), config.fit().resumeFrom(), losses, epochSeconds, readSeconds,
          (System.nanoTime() - start) / 1e9, module.toString(), loaded.weightsSource(), loaded.sha256(), sha256,
          spark.version(), spark.sparkContext().master(), config.output().path(), config.resolved());
      LinearJob.writeText(summary.toJson(), new Path(placement.path(), RunSummary.FILE_NAME), hadoop);
      if (report) {
        LinearJob.writeText(ReportPage.render(summary), new Path(placement.path(), ReportPage.FILE_NAME), hadoop);
      }
    } catch (Throwable e) { // Spark throws SparkException, a checked exception, without declaring it
      placement.abort();
      throw e;
    }
    placement.commit();
    return summary;
  }

  /** Writes the invalid rows, with their reason, to output.quarantine-path, replacing it as run does. */
  private void writeQuarantine(Dataset<Row> input, TrainingSet.Spec spec, Configuration hadoop) {
    OutputPlacement staged = OutputPlacement.begin(config.output().quarantinePath(), true, hadoop);
    try {
      TrainingSet.invalidRowsOf(input, spec).write().mode(SaveMode.ErrorIfExists)
          .format(config.output().format().configValue()).save(staged.path());
    } catch (Throwable e) { // SparkException is checked but thrown undeclared
      staged.abort();
      throw e;
    }
    staged.commit();
  }

  private static void write(byte[] bytes, Path path, Configuration hadoop) {
    try (OutputStream out = path.getFileSystem(hadoop).create(path, false)) {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path + ": " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------------------------------ checks

  private void checkSettings(FitConfig fit, List<String> problems) {
    if (!config.hooks().pre().isEmpty() || !config.hooks().forward().isEmpty() || !config.hooks().layers().isEmpty()) {
      problems.add("fit trains the module alone and runs no hooks; remove the hooks section (a NaN or infinite"
          + " feature or label already makes a row invalid in a fit)");
    }
    if (config.invalidRows() == InvalidRowPolicy.NULL) {
      problems.add("invalid-rows is null, which writes a null output for an invalid row; a fit writes no rows: set"
          + " invalid-rows to error, skip or quarantine");
    }
  }

  /** BatchNorm1d and Dropout would train on batch statistics and random masks, which core does not compute. */
  private static void checkTrainable(Module module, List<String> problems) {
    module.namedModules().forEach((name, child) -> {
      String where = name.isEmpty() ? "the module" : "module.layers[" + name + "]";
      if (child instanceof BatchNorm1d) {
        problems.add("fit cannot train " + where + " (" + child + "): BatchNorm1d in training mode normalises with"
            + " each batch's statistics, which is not implemented. Remove it from module.layers, or fit without it");
      } else if (child instanceof Dropout dropout && dropout.p() > 0) {
        problems.add("fit cannot train " + where + " (" + child + "): Dropout in training mode draws random masks,"
            + " which is not implemented. Remove it, or set its p to 0");
      }
    });
  }

  private static Loss<?> lossOf(FitLoss loss) {
    return switch (loss) {
      case MSE -> new MSELoss();
      case BCE_WITH_LOGITS -> new BCEWithLogitsLoss();
      case CROSS_ENTROPY -> new CrossEntropyLoss();
    };
  }

  /** The core optimizer of {@code settings}, or null with a problem in torch's words when an argument is wrong. */
  private static Optimizer optimizerOf(OptimizerConfig settings, Module module, List<String> problems) {
    try {
      if (settings instanceof OptimizerConfig.Sgd sgd) {
        if (sgd.lr() == null) {
          problems.add("fit.optimizer: sgd needs lr, which has no default in torch, e.g. {type: sgd, lr: 0.05}");
          return null;
        }
        return new SGD(module, SGD.options(sgd.lr()).momentum(sgd.momentum()).dampening(sgd.dampening())
            .weightDecay(sgd.weightDecay()).nesterov(sgd.nesterov()));
      } else if (settings instanceof OptimizerConfig.Adam adam) {
        return new Adam(module, adamOptions(Adam.options(), adam.lr(), adam.betas(), adam.eps(), adam.weightDecay(),
            adam.amsgrad()));
      }
      OptimizerConfig.AdamW adamW = (OptimizerConfig.AdamW) settings;
      return new AdamW(module, adamOptions(AdamW.options(), adamW.lr(), adamW.betas(), adamW.eps(),
          adamW.weightDecay(), adamW.amsgrad()));
    } catch (IllegalArgumentException e) {
      problems.add("fit.optimizer: " + e.getMessage() + " (" + settings.summary() + ")");
      return null;
    }
  }

  private static AdamOptions adamOptions(AdamOptions options, double lr, List<Double> betas, double eps,
      double weightDecay, boolean amsgrad) {
    if (betas.size() != 2) {
      throw new IllegalArgumentException("betas must be a pair [beta1, beta2], got " + betas);
    }
    return options.lr(lr).betas(betas.get(0), betas.get(1)).eps(eps).weightDecay(weightDecay).amsgrad(amsgrad);
  }

  private void resumeModule(FitConfig fit, Module module, Configuration hadoop, List<String> problems) {
    String path = new Path(fit.resumeFrom(), FitCheckpoint.MODEL).toString();
    try {
      SafetensorsFile file = SafetensorsReader.read(ModuleLoader.readFile(path, hadoop), path);
      String prefix = config.module().weights().prefix();
      module.loadStateDict((prefix.isEmpty() ? file : file.withPrefix(prefix)).tensors(), true);
    } catch (StateDictLoadException e) {
      problems.add("Cannot resume from " + fit.resumeFrom() + " (fit.resume-from): " + path + " does not fit "
          + module + ". " + e.getMessage() + "\nResume with the module of the earlier fit.");
    } catch (WeightFileException | UncheckedIOException e) {
      problems.add("Cannot resume from " + fit.resumeFrom() + " (fit.resume-from): " + e.getMessage());
    }
  }

  private void resumeOptimizer(FitConfig fit, Optimizer optimizer, Configuration hadoop, List<String> problems) {
    String path = new Path(fit.resumeFrom(), FitCheckpoint.OPTIMIZER).toString();
    try {
      OptimizerStateDict state = FitCheckpoint.readOptimizer(ModuleLoader.readFile(path, hadoop), path,
          fit.optimizer().typeName());
      // The earlier fit's hyper-parameters are in the state dict; the config's are the ones this fit uses.
      OptimizerStateDict own = optimizer.stateDict();
      optimizer.loadStateDict(new OptimizerStateDict(state.state(), own.paramGroups()));
    } catch (WeightFileException | UncheckedIOException | IllegalArgumentException e) {
      problems.add("Cannot resume from " + fit.resumeFrom() + " (fit.resume-from): " + e.getMessage());
    }
  }

  private static String invalidText(Map<String, Long> invalid) {
    return invalid.entrySet().stream().filter(e -> e.getValue() > 0).map(e -> e.getKey() + " " + e.getValue())
        .reduce((a, b) -> a + ", " + b).orElse("");
  }
}
