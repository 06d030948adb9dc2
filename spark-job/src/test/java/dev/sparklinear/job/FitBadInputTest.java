package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.spark.InvalidRowException;
import dev.sparklinear.testing.LocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to a fit: rows with a null, NaN, out-of-range or wrongly sized label, or null or NaN features, follow
 * {@code invalid-rows} as in {@code run} (counted, quarantined, left out of the mean, or failing the fit with the row
 * named), and a label column that cannot hold the loss's labels, a loss that does not fit the module, an input without
 * valid rows or settings a fit cannot use stop it before training with one clear message.
 */
class FitBadInputTest extends LocalSpark {
  @TempDir
  static Path tmp;
  private static Path input;
  private static Path clean;
  private static Path onlyBad;

  /** Rows whose label y is null (5) or NaN (9), whose features hold NaN (14) or are null (20). */
  private static final Map<Long, String> BAD_FOR_Y = Map.of(5L, "null-label", 9L, "non-finite-label",
      14L, "non-finite", 20L, "null-vector");

  private static StructType schema() {
    return new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, true))
        .add("y", DataTypes.DoubleType, true)
        .add("y2", DataTypes.createArrayType(DataTypes.DoubleType, true))
        .add("cls", DataTypes.LongType, true)
        .add("cls_float", DataTypes.FloatType, true)
        .add("tag", DataTypes.StringType, true);
  }

  private static Row row(long i) {
    double x0 = i / 10.0;
    double x1 = 1 - i / 40.0;
    double x2 = (i % 5) / 2.0;
    List<Float> features = new ArrayList<>(Arrays.asList((float) x0, (float) x1, (float) x2));
    if (i == 14) {
      features.set(1, Float.NaN);
    }
    Double y = i == 5 ? null : i == 9 ? Double.NaN : 2 * x0 - x1 + 0.5 * x2 + 0.1;
    List<Double> y2 = i == 27 ? List.of(1.0, 2.0, 3.0) : List.of(x0 - x2, x1 + 1);
    Long cls = i == 33 ? null : i == 31 ? 3L : i % 3;
    return RowFactory.create(i, i == 20 ? null : features, y, y2, cls, (float) (i % 3), "t" + i);
  }

  private static Path write(String name, LongPredicate keep) {
    List<Row> rows = new ArrayList<>();
    for (long i = 0; i < 40; i++) {
      if (keep.test(i)) {
        rows.add(row(i));
      }
    }
    Path path = tmp.resolve(name);
    spark.createDataFrame(rows, schema()).coalesce(1).write().parquet(path.toString());
    return path;
  }

  @BeforeAll
  static void writeInputs() {
    input = write("input", i -> true);
    clean = write("clean", i -> !BAD_FOR_Y.containsKey(i));
    onlyBad = write("only-bad", BAD_FOR_Y::containsKey);
  }

  private static JobConfig config(Path in, String output, String... overrides) {
    List<String> all = new ArrayList<>(List.of("output.path=" + tmp.resolve(output), "input.path=" + in));
    all.addAll(List.of(overrides));
    return JobConfig.parse("""
        module: {in-features: 3, out-features: 1, init-seed: 7}
        input: {path: unset, column: features}
        output: {path: unset}
        fit:
          label-column: y
          loss: mse
          optimizer: {type: sgd, lr: 0.05, momentum: 0.5}
          epochs: 5
        """, "fit.yaml", all);
  }

  private static FitSummary fit(JobConfig config) {
    return new FitJob(config, spark, false).fit();
  }

  @Test
  void skippedRowsAreCountedByReasonAndLeftOutOfTheMean() {
    FitSummary skipped = fit(config(input, "skip", "invalid-rows=skip"));
    FitSummary reference = fit(config(clean, "clean-fit"));

    assertThat(skipped.rowsIn()).isEqualTo(40);
    assertThat(skipped.rowsUsed()).isEqualTo(36);
    Map<String, Long> expected = new HashMap<>();
    skipped.invalidRows().keySet().forEach(reason -> expected.put(reason, 0L));
    BAD_FOR_Y.values().forEach(reason -> expected.merge(reason, 1L, Long::sum));
    assertThat(skipped.invalidRows()).isEqualTo(expected);
    // The same valid rows in the same order and block: the very same training.
    assertThat(skipped.losses()).isEqualTo(reference.losses());
    assertThat(skipped.toText()).contains("invalid rows (skip): ");
  }

  @Test
  void quarantinedRowsAreWrittenWithTheirReason() {
    Path quarantine = tmp.resolve("quarantine");
    FitSummary summary = fit(config(input, "quarantined", "invalid-rows=quarantine",
        "output.quarantine-path=" + quarantine));

    assertThat(summary.invalidRowsTotal()).isEqualTo(4);
    Map<Long, String> reasons = new HashMap<>();
    for (Row row : spark.read().parquet(quarantine.toString()).collectAsList()) {
      reasons.put(row.getLong(row.fieldIndex("id")), row.getString(row.fieldIndex("reason")));
      assertThat(row.getString(row.fieldIndex("tag"))).isEqualTo("t" + row.getLong(row.fieldIndex("id")));
    }
    assertThat(reasons).isEqualTo(BAD_FOR_Y);
  }

  @Test
  void underErrorTheFirstInvalidRowFailsTheFitNamingIt() {
    assertThatThrownBy(() -> fit(config(input, "error")))
        .hasRootCauseInstanceOf(InvalidRowException.class)
        .rootCause()
        .hasMessageStartingWith("Invalid row 5 of partition 0 (id=5, y2=")
        .hasMessageContaining("label column 'y' is null or holds a null")
        .hasMessageContaining("set invalid-rows to skip or quarantine");
    assertThat(tmp.resolve("error")).doesNotExist();
  }

  @Test
  void classIndicesOutOfRangeAndLabelsOfTheWrongWidthAreInvalidRows() {
    FitSummary classes = fit(config(input, "classes", "invalid-rows=skip", "module.out-features=3",
        "fit.label-column=cls", "fit.loss=cross-entropy"));
    assertThat(classes.invalidRows()).containsEntry("label-out-of-range", 1L).containsEntry("null-label", 1L)
        .containsEntry("non-finite", 1L).containsEntry("null-vector", 1L);
    assertThat(classes.rowsUsed()).isEqualTo(36);

    FitSummary pairs = fit(config(input, "pairs", "invalid-rows=skip", "module.out-features=2",
        "fit.label-column=y2"));
    assertThat(pairs.invalidRows()).containsEntry("label-wrong-width", 1L).containsEntry("non-finite", 1L)
        .containsEntry("null-vector", 1L);
    assertThat(pairs.rowsUsed()).isEqualTo(37);

    assertThatThrownBy(() -> fit(config(input, "class-error", "module.out-features=3", "fit.label-column=cls",
        "fit.loss=cross-entropy", "input.path=" + clean)))
        .rootCause()
        .hasMessageContaining("label column 'cls' holds class index 3 for a module of 3 outputs (Target 3 is out"
            + " of bounds.)");
  }

  @Test
  void anInputWithoutValidRowsStopsTheFitWithOneMessage() {
    assertThatThrownBy(() -> fit(config(onlyBad, "empty", "invalid-rows=skip")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("has no rows to train on: 4 rows read, all invalid (")
        .hasMessageContaining("null-label 1");
    assertThat(tmp.resolve("empty")).doesNotExist();
  }

  @Test
  void labelsAndLossesThatDoNotFitTheModuleAreRefusedTogetherBeforeAnyTaskRuns() {
    assertThatThrownBy(() -> fit(config(input, "bad-ce", "module.out-features=1", "fit.label-column=cls_float",
        "fit.loss=cross-entropy")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("2 problems")
        .hasMessageContaining("cross-entropy, which takes one logit per class, but the module has 1 output")
        .hasMessageContaining("Label column 'cls_float' has type float, but cross-entropy takes a class index per"
            + " row (torch: expected scalar type Long but found Float)");
    assertThatThrownBy(() -> fit(config(input, "bad-width", "module.out-features=2")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("Label column 'y' holds one number per row, but the module has 2 outputs");
    assertThatThrownBy(() -> fit(config(input, "bad-type", "fit.label-column=tag")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("Label column 'tag' has type string, which mse cannot take");
    assertThatThrownBy(() -> fit(config(input, "missing", "fit.label-column=label")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("The label column 'label' does not exist (fit.label-column). Available columns: [id,");
    for (String name : Set.of("bad-ce", "bad-width", "bad-type", "missing")) {
      assertThat(tmp.resolve(name)).doesNotExist();
    }
  }

  @Test
  void aConfigWithoutAFitSectionIsRefusedWithWhatToAdd() {
    JobConfig run = JobConfig.parse("module: {in-features: 3, out-features: 1}\ninput: {path: " + input
        + ", column: features}\noutput: {path: " + tmp.resolve("no-fit") + "}\n", "run.yaml", List.of());

    assertThatThrownBy(() -> fit(run))
        .isInstanceOf(PreflightException.class)
        .hasMessage("Cannot run run.yaml: The config has no fit section: add fit.label-column, fit.loss, fit.optimizer"
            + " and fit.epochs (see docs/config.md), or use 'spark-linear run' to run the module as it is");
  }

  @Test
  void settingsAFitCannotUseAreRefusedWithTorchsWordsWhereItHasThem() {
    assertThatThrownBy(() -> fit(config(input, "settings", "fit.optimizer={type: sgd, momentum: 0.9}",
        "invalid-rows=null", "hooks.forward=[relu]")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("3 problems")
        .hasMessageContaining("fit.optimizer: sgd needs lr")
        .hasMessageContaining("invalid-rows is null")
        .hasMessageContaining("remove the hooks section");
    assertThatThrownBy(() -> fit(config(input, "settings", "fit.optimizer={type: adam, lr: -1}")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("fit.optimizer: Invalid learning rate: -1.0");
    assertThatThrownBy(() -> fit(config(input, "settings", "fit.optimizer={type: sgd, lr: 0.1, nesterov: true}")))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("fit.optimizer: Nesterov momentum requires a momentum and zero dampening");
    assertThatThrownBy(() -> fit(JobConfig.parse("""
        module:
          layers: [{type: linear, in-features: 3, out-features: 4}, {type: dropout, p: 0.2},
                   {type: linear, in-features: 4, out-features: 1}]
          init-seed: 1
        input: {path: %s, column: features}
        output: {path: %s}
        fit: {label-column: y, loss: mse, optimizer: {type: adam}, epochs: 2}
        """.formatted(input, tmp.resolve("dropout")), "dropout.yaml", List.of())))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("fit cannot train module.layers[1] (Dropout(p=0.2, inplace=False)): Dropout in"
            + " training mode draws random masks");
  }
}
