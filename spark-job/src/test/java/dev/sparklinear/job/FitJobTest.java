package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.SafetensorsWriter;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.report.ReportPage;
import dev.sparklinear.testing.FitFixtures;
import dev.sparklinear.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fit as a job: the same bits on every run over the same partitions, parameters equal within 1e-6 relative,
 * element by element, over 1, 3 and 8 partitions, a resumed fit equal to an uninterrupted one, a checkpoint that
 * {@code run} takes as its weights (under the module's prefix), the summary and report, and the output placement: a
 * fit that fails leaves nothing where its output is expected and keeps the output it would have replaced.
 */
class FitJobTest extends LocalSpark {
  @TempDir
  static Path tmp;
  private static Path input3;

  @BeforeAll
  static void writeInputs() {
    // One partition per input file: Spark packs small files together while their size plus this cost fits a split.
    spark.conf().set("spark.sql.files.openCostInBytes", "1g");
    input3 = FitFixtures.writeInput(spark, tmp.resolve("input-3"), 3);
  }

  private static FitSummary fit(String caseName, Path input, Path output, String... overrides) throws IOException {
    JsonNode c = FitFixtures.testCase(caseName);
    Path config = Files.writeString(tmp.resolve(output.getFileName() + ".yaml"), FitFixtures.config(c, input, output));
    return new FitJob(JobConfig.load(config, List.of(overrides)), spark, false).fit();
  }

  private static byte[] bytes(Path file) throws IOException {
    return Files.readAllBytes(file);
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void twoRunsOverTheSamePartitionsWriteTheSameCheckpointBits() throws Exception {
    Path first = tmp.resolve("same-1");
    Path second = tmp.resolve("same-2");
    FitSummary a = fit("mlp-ce-adam", input3, first);
    FitSummary b = fit("mlp-ce-adam", input3, second);

    assertThat(bytes(second.resolve(FitCheckpoint.MODEL))).isEqualTo(bytes(first.resolve(FitCheckpoint.MODEL)));
    assertThat(bytes(second.resolve(FitCheckpoint.OPTIMIZER)))
        .isEqualTo(bytes(first.resolve(FitCheckpoint.OPTIMIZER)));
    assertThat(b.losses()).isEqualTo(a.losses());
    assertThat(a.partitions()).isEqualTo(3);
    // The summary names the checkpoint by the SHA-256 of the bytes written.
    assertThat(a.checkpointSha256()).containsEntry(FitCheckpoint.MODEL,
        sha256(bytes(first.resolve(FitCheckpoint.MODEL))));
  }

  @Test
  void oneThreeAndEightPartitionsGiveParametersEqualWithinOnePartPerMillion() throws Exception {
    Map<Integer, SafetensorsFile> models = new LinkedHashMap<>();
    for (int partitions : List.of(1, 3, 8)) {
      Path input = partitions == 3 ? input3 : FitFixtures.writeInput(spark, tmp.resolve("input-" + partitions),
          partitions);
      Path output = tmp.resolve("partitions-" + partitions);
      FitSummary summary = fit("mlp-mse-sgd", input, output);
      assertThat(summary.partitions()).isEqualTo(partitions);
      models.put(partitions, SafetensorsReader.read(output.resolve(FitCheckpoint.MODEL)));
    }
    // Element by element: a partition adds its blocks' gradients in float64, and nothing is rounded to float32
    // before the driver's division, so that only the order of float64 additions depends on the partitioning.
    SafetensorsFile one = models.get(1);
    for (int partitions : List.of(3, 8)) {
      System.out.printf("%d partitions against 1: largest relative difference %.3g%n", partitions,
          largestRelativeDifference(models.get(partitions), one));
    }
    for (int partitions : List.of(3, 8)) {
      for (String key : one.tensors().keySet()) {
        float[] expected = one.tensor(key).toArray();
        float[] actual = models.get(partitions).tensor(key).toArray();
        for (int i = 0; i < expected.length; i++) {
          assertThat(relativeDifference(actual[i], expected[i])).as("%d partitions, %s[%d]: %s against %s with 1"
              + " partition", partitions, key, i, actual[i], expected[i]).isLessThanOrEqualTo(1e-6);
        }
      }
    }
  }

  private static double largestRelativeDifference(SafetensorsFile a, SafetensorsFile b) {
    double largest = 0;
    for (String key : b.tensors().keySet()) {
      float[] x = a.tensor(key).toArray();
      float[] y = b.tensor(key).toArray();
      for (int i = 0; i < y.length; i++) {
        largest = Math.max(largest, relativeDifference(x[i], y[i]));
      }
    }
    return largest;
  }

  /** {@code |a - b| / max(|a|, |b|)}: 0 when both are zero. */
  private static double relativeDifference(float a, float b) {
    double scale = Math.max(Math.abs(a), Math.abs(b));
    return scale == 0 ? 0 : Math.abs((double) a - b) / scale;
  }

  @Test
  void aResumedFitEqualsAnUninterruptedOne() throws Exception {
    Path whole = tmp.resolve("resume-whole");
    Path firstPart = tmp.resolve("resume-first");
    Path rest = tmp.resolve("resume-rest");
    FitSummary uninterrupted = fit("linear-bce-adamw", input3, whole);
    FitSummary first = fit("linear-bce-adamw", input3, firstPart, "fit.epochs=9");
    FitSummary resumed = fit("linear-bce-adamw", input3, rest, "fit.epochs=6", "fit.resume-from=" + firstPart);

    assertThat(bytes(rest.resolve(FitCheckpoint.MODEL))).isEqualTo(bytes(whole.resolve(FitCheckpoint.MODEL)));
    assertThat(bytes(rest.resolve(FitCheckpoint.OPTIMIZER))).isEqualTo(bytes(whole.resolve(FitCheckpoint.OPTIMIZER)));
    assertThat(first.losses()).isEqualTo(uninterrupted.losses().subList(0, 9));
    assertThat(resumed.losses()).isEqualTo(uninterrupted.losses().subList(9, 15));
    assertThat(resumed.resumedFrom()).isEqualTo(firstPart.toString());
  }

  @Test
  void resumingWithAnotherOptimizerIsRefusedBeforeAnyTaskRuns() throws Exception {
    Path firstPart = tmp.resolve("resume-sgd");
    fit("linear-mse-sgd", input3, firstPart, "fit.epochs=2");

    assertThatThrownBy(() -> fit("linear-mse-sgd", input3, tmp.resolve("resume-adam"),
        "fit.optimizer={type: adam}", "fit.resume-from=" + firstPart))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("Cannot resume from " + firstPart + " (fit.resume-from)")
        .hasMessageContaining("it holds the state of a sgd optimizer, but fit.optimizer is adam");
    assertThat(tmp.resolve("resume-adam")).doesNotExist();
  }

  @Test
  void runTakesTheCheckpointUnderTheModulesPrefixAsItsWeights() throws Exception {
    // The initial parameters of a case in a file under the prefix "head.", as a larger model would hold them.
    JsonNode c = FitFixtures.testCase("linear-mse-sgd");
    Map<String, Tensor> initial = new LinkedHashMap<>();
    for (String key : List.of("weight", "bias")) {
      JsonNode tensor = c.get("initial").get(key);
      double[] values = FitFixtures.tensor(c.get("initial"), key);
      float[] floats = new float[values.length];
      for (int i = 0; i < floats.length; i++) {
        floats[i] = (float) values[i];
      }
      int[] shape = Stream.of(tensor.get("shape")).flatMapToInt(s -> java.util.stream.IntStream.range(0, s.size())
          .map(i -> s.get(i).asInt())).toArray();
      initial.put("head." + key, Tensor.wrap(floats, shape));
    }
    Path weights = tmp.resolve("head-initial.safetensors");
    Files.write(weights, SafetensorsWriter.toBytes(initial, Map.of("format", "pt")));
    Path output = tmp.resolve("prefixed");
    String file = "module.weights={format: safetensors, path: " + weights + ", prefix: head.}";
    FitSummary summary = fit("linear-mse-sgd", input3, output, file);

    SafetensorsFile model = SafetensorsReader.read(output.resolve(FitCheckpoint.MODEL));
    assertThat(model.tensors().keySet()).containsExactlyInAnyOrder("head.weight", "head.bias");
    assertThat(model.metadata()).containsEntry("format", "pt");
    // The same training as with the inline weights: torch's parameters.
    JsonNode final64 = c.get("final64");
    float[] weight = model.tensor("head.weight").toArray();
    double[] expectedWeight = FitFixtures.tensor(final64, "weight");
    for (int i = 0; i < weight.length; i++) {
      assertThat((double) weight[i]).isCloseTo(expectedWeight[i], within(1e-4));
    }
    assertThat(summary.initialWeights()).isEqualTo(weights.toString());

    // run reads the checkpoint as its weights and computes x W^T + b with them.
    Path scored = tmp.resolve("scored");
    JobConfig run = JobConfig.parse("module: {in-features: 5, out-features: 2, weights: {format: safetensors, path: "
        + output.resolve(FitCheckpoint.MODEL) + ", prefix: head.}}\ninput: {path: " + input3 + ", column: features}\n"
        + "output: {path: " + scored + ", keep: [id, features]}\n", "run.yaml", List.of());
    new LinearJob(run, spark).run();
    float[] bias = model.tensor("head.bias").toArray();
    List<Row> rows = spark.read().parquet(scored.toString()).collectAsList();
    assertThat(rows).hasSize(240);
    for (Row row : rows) {
      List<Float> x = row.getList(row.fieldIndex("features"));
      List<Float> y = row.getList(row.fieldIndex("output"));
      for (int o = 0; o < 2; o++) {
        double reference = bias[o];
        for (int j = 0; j < FitFixtures.IN; j++) {
          reference += (double) weight[o * FitFixtures.IN + j] * x.get(j);
        }
        assertThat((double) y.get(o)).isCloseTo(reference, within(1e-5 * (1 + Math.abs(reference))));
      }
    }
  }

  @Test
  void summaryAndReportHoldTheLossesAndTimesOfEveryEpoch() throws Exception {
    Path output = tmp.resolve("report");
    JsonNode c = FitFixtures.testCase("linear-ce-sgd");
    Path config = Files.writeString(tmp.resolve("report.yaml"), FitFixtures.config(c, input3, output));
    FitSummary summary = new FitJob(JobConfig.load(config, List.of()), spark, true).fit();

    JsonNode json = new ObjectMapper().readTree(output.resolve(RunSummary.FILE_NAME).toFile());
    assertThat(json.get("command").asText()).isEqualTo("fit");
    assertThat(json.get("rows_in").asLong()).isEqualTo(240);
    assertThat(json.get("rows_used").asLong()).isEqualTo(240);
    assertThat(json.get("fit").get("losses")).hasSize(15);
    assertThat(json.get("fit").get("epoch_seconds")).hasSize(15);
    assertThat(json.get("fit").get("optimizer").asText()).startsWith("sgd {lr: 0.05, momentum: 0.9");
    assertThat(json.get("config").get("fit.loss").asText()).isEqualTo("cross-entropy");
    assertThat(json.get("checkpoint_sha256").get(FitCheckpoint.MODEL).asText())
        .isEqualTo(sha256(bytes(output.resolve(FitCheckpoint.MODEL))));
    assertThat(json.get("checkpoint_sha256").get(FitCheckpoint.OPTIMIZER).asText())
        .isEqualTo(sha256(bytes(output.resolve(FitCheckpoint.OPTIMIZER))));
    String html = Files.readString(output.resolve(ReportPage.FILE_NAME));
    assertThat(html).contains("spark-linear fit report").contains("alt=\"mean loss per epoch\" src=\"data:image/png;base64,");
    assertThat(html).contains(String.format(java.util.Locale.ROOT, "%.10g", summary.finalLoss()));
    assertThat(summary.toText()).contains("240 rows in, 240 rows used, 15 epochs");
    try (Stream<Path> files = Files.list(output)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")))
          .containsExactlyInAnyOrder(FitCheckpoint.MODEL,
          FitCheckpoint.OPTIMIZER, RunSummary.FILE_NAME, ReportPage.FILE_NAME);
    }
    try (Stream<Path> siblings = Files.list(tmp)) {
      assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".report."));
    }
  }

  @Test
  void aDivergingFitStopsWithOneErrorAndLeavesNoOutput() throws Exception {
    Path output = tmp.resolve("diverged");
    assertThatThrownBy(() -> fit("linear-mse-sgd", input3, output, "fit.optimizer={type: sgd, lr: 1.0e+6}",
        "fit.epochs=40"))
        .isInstanceOf(FitDivergedException.class)
        .hasMessageStartingWith("The fit diverged: the mean loss is ")
        .hasMessageContaining("Lower fit.optimizer.lr");
    assertThat(output).doesNotExist();
    try (Stream<Path> siblings = Files.list(tmp)) {
      assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".diverged."));
    }
  }

  @Test
  void aFailedOverwriteKeepsThePreviousOutput() throws Exception {
    Path output = tmp.resolve("kept");
    fit("linear-mse-sgd", input3, output, "fit.epochs=2");
    byte[] before = bytes(output.resolve(FitCheckpoint.MODEL));

    assertThatThrownBy(() -> fit("linear-mse-sgd", input3, output, "fit.optimizer={type: sgd, lr: 1.0e+6}",
        "fit.epochs=40")).isInstanceOf(FitDivergedException.class);

    assertThat(bytes(output.resolve(FitCheckpoint.MODEL))).isEqualTo(before);
  }

  @Test
  void anExistingOutputUnderErrorIfExistsIsRefusedBeforeAnyTaskRuns() throws Exception {
    Path output = Files.createDirectories(tmp.resolve("exists"));
    assertThatThrownBy(() -> fit("linear-mse-sgd", input3, output, "output.mode=errorifexists"))
        .isInstanceOf(PreflightException.class)
        .hasMessageContaining("Output path " + output + " already exists and output.mode is errorifexists");
  }
}
