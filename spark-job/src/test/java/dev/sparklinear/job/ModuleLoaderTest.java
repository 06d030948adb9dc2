package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.weights.WeightFileException;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** Building {@code module.layers} on the driver: inline tensors, seeds, and files that do not fit. */
class ModuleLoaderTest {
  private static final String IO = "input: {path: in.parquet, column: features}\noutput: {path: out/m}\n";

  private static LoadedModule load(String module, String... overrides) {
    return ModuleLoader.load(JobConfig.parse(module + IO, "conf/m.yaml", List.of(overrides)), new Configuration());
  }

  @Test
  void loadsInlineTensorsIntoTheTree() {
    LoadedModule loaded = load("""
        module:
          layers:
            - {type: linear, in-features: 2, out-features: 3}
            - {type: batch-norm-1d, num-features: 3}
            - relu
            - {type: linear, in-features: 3, out-features: 1, bias: false}
          weights:
            tensors:
              0.weight: [[1, 0], [0, 1], [1, 1]]
              0.bias: [0, 0, -1]
              1.weight: [2, 1, 0.5]
              1.bias: [0.5, 0, -2]
              1.running_mean: [1, 1, 1]
              1.running_var: [4, 1, 0.25]
              1.num_batches_tracked: 12
              3.weight: [[1, 2, 3]]
        """);

    assertThat(loaded.inFeatures()).isEqualTo(2);
    assertThat(loaded.outFeatures()).isEqualTo(1);
    assertThat(loaded.weightsSource()).isEqualTo("inline");
    // x = [1, 2]: the first Linear gives [1, 2, 2]; BatchNorm (x - mean) / sqrt(var + 1e-5) * weight + bias; ReLU.
    double[] h = {1, 2, 2};
    double[] weight = {2, 1, 0.5};
    double[] bias = {0.5, 0, -2};
    double[] var = {4, 1, 0.25};
    double expected = 0;
    for (int c = 0; c < 3; c++) {
      double normalized = (h[c] - 1) / Math.sqrt(var[c] + 1e-5) * weight[c] + bias[c];
      expected += (c + 1) * Math.max(0, normalized);
    }
    assertThat(expected).as("the ReLU cuts the third value").isCloseTo(0.5 + 2 * 0.999995, within(1e-5));
    assertThat((double) loaded.module().call(1f, 2f)[0]).isCloseTo(expected, within(1e-6));
  }

  @Test
  void modulePrecisionIsSetOnEveryLinearLayer() {
    String tree = "module: {layers: [{type: linear, in-features: 4, out-features: 8}, relu,"
        + " {type: linear, in-features: 8, out-features: 2}], init-seed: 7}\n";
    String single = "module: {in-features: 4, out-features: 2, init-seed: 7}\n";

    for (String module : List.of(tree, single)) {
      assertThat(linears(load(module).module())).as(module).isNotEmpty()
          .allSatisfy(linear -> assertThat(linear.precision()).isEqualTo(LinearKernels.Precision.FLOAT32));
      List<Linear> compensated = linears(load(module, "module.precision=compensated").module());
      assertThat(compensated).as(module).isNotEmpty().allSatisfy(linear -> {
        assertThat(linear.precision()).isEqualTo(LinearKernels.Precision.COMPENSATED);
        assertThat(linear.kernelName()).isEqualTo("compensated");
      });
    }
    // The warm-up warms the kernel the job will run.
    JobConfig config = JobConfig.parse(tree + IO, "conf/m.yaml", List.of("module.precision=compensated"));
    assertThat(linears(KernelWarmUp.moduleOfShapes(config.module())))
        .allSatisfy(linear -> assertThat(linear.kernelName()).isEqualTo("compensated"));
  }

  private static List<Linear> linears(Module module) {
    return module.modules().stream().filter(Linear.class::isInstance).map(Linear.class::cast).toList();
  }

  @Test
  void aSeedGivesTheSameTree() {
    String module = "module: {layers: [{type: linear, in-features: 4, out-features: 8}, gelu,"
        + " {type: linear, in-features: 8, out-features: 2}], init-seed: 7}\n";

    LoadedModule first = load(module);

    assertThat(first.weightsSource()).isEqualTo("random (init-seed 7)");
    assertThat(first.module().stateDict()).isEqualTo(load(module).module().stateDict());
    assertThat(first.module().stateDict()).isNotEqualTo(load(module, "module.init-seed=8").module().stateDict());
  }

  @Test
  void aTreeThatDoesNotFitTheFileIsReportedAtOnceInTorchsWords() throws IOException {
    JsonNode wrong = new ObjectMapper().readTree(RepositoryRoot.resolve("data/heads/head.json").toFile())
        .get("wrong_layers");
    String path = RepositoryRoot.resolve("data/heads/head.safetensors").toString();

    WeightFileException e = catchThrowableOfType(WeightFileException.class, () -> load("""
        module:
          layers:
            - {type: linear, in-features: 4, out-features: 8}
            - {type: layer-norm, normalized-shape: 8}
            - gelu
            - {type: linear, in-features: 8, out-features: 8}
            - relu
            - relu
            - {type: dropout, p: 0.1}
            - {type: linear, in-features: 8, out-features: 4}
            - {type: linear, in-features: 4, out-features: 2}
          weights: {format: safetensors, path: '%s', prefix: head.}
        """.formatted(path)));

    // torch prints shapes as torch.Size([3, 8]); this project prints [3, 8].
    String torchMessage = wrong.get("message").textValue().replaceAll("torch\\.Size\\((\\[[0-9, ]*\\])\\)", "$1");
    assertThat(e).hasMessage("Cannot read weights from " + path + ": the tensors do not fit "
        + wrong.get("repr").textValue() + ". " + torchMessage + "\nMake module.layers match the file: the same"
        + " layers in the same order, of the same widths (child i's tensors are i.weight, i.bias, ...), or check"
        + " module.weights.prefix.");
  }
}
