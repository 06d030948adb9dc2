package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.core.nn.BatchNorm1d;
import dev.sparklinear.core.nn.Dropout;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ReLU;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.nn.Sigmoid;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.SafetensorsWriter;
import dev.sparklinear.core.weights.WeightFileException;
import dev.sparklinear.testing.LocalSpark;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.param.ParamPair;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleTransformerPersistenceTest extends LocalSpark {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private static JsonNode json(Path file) throws IOException {
    return JSON.readTree(Files.readString(file));
  }

  private static void assertSameRows(Dataset<Row> actual, Dataset<Row> expected) {
    List<Row> a = actual.orderBy("id").collectAsList();
    List<Row> e = expected.orderBy("id").collectAsList();
    assertThat(a).isNotEmpty().isEqualTo(e);
  }

  // ------------------------------------------------------------------------------------------------- alone

  @Test
  void savedTransformerLoadsWithItsUidParamsModuleAndOutputs() throws IOException {
    ModuleTransformer original = SavedTransformerSample.transformer()
        .setOutputLayout(OutputLayout.VECTOR)
        .setKeepCols("id")
        .setBlockMaxRows(3)
        .setHandleInvalid("skip")
        .setRejectNonFinite(true)
        .setColumnarInput(false);
    String path = dir.resolve("transformer").toString();

    original.write().save(path);
    ModuleTransformer loaded = ModuleTransformer.load(path);

    assertThat(loaded.uid()).isEqualTo(original.uid());
    assertThat(loaded.extractParamMap().toList()).hasSameSizeAs(original.extractParamMap().toList());
    for (ParamPair<?> pair : original.extractParamMap().toList()) {
      Object value = loaded.getOrDefault(loaded.getParam(pair.param().name()));
      Object expected = pair.value();
      if (expected instanceof String[] array) {
        assertThat((String[]) value).as(pair.param().name()).containsExactly(array);
      } else {
        assertThat(value).as(pair.param().name()).isEqualTo(expected);
      }
      assertThat(loaded.isSet(loaded.getParam(pair.param().name())))
          .as("%s is set", pair.param().name()).isEqualTo(original.isSet(pair.param()));
    }
    assertThat(loaded.module()).isNotSameAs(original.module()).hasToString(original.module().toString());
    assertThat(loaded.module().stateDict()).containsExactlyEntriesOf(original.module().stateDict());
    assertThat(loaded.module().modules()).allSatisfy(m -> assertThat(m.isTraining()).isFalse());

    float[][] inputs = SavedTransformerSample.inputs();
    Dataset<Row> frame = SavedTransformerSample.frame(spark, inputs)
        .union(SavedTransformerSample.frame(spark, new float[][] {{Float.NaN, 0, 0, 0, 0, 0}})
            .withColumn("id", functions.lit(99L)));
    Dataset<Row> expected = original.transform(frame);
    assertThat(expected.columns()).containsExactly("id", "probabilities");
    assertThat(expected.count()).as("the NaN row is skipped").isEqualTo(inputs.length);
    assertSameRows(loaded.transform(frame), expected);
  }

  @Test
  void writesSparksMetadataTheArchitectureAndTheWeightsUnderThePath() throws IOException {
    ModuleTransformer original = SavedTransformerSample.transformer();
    Path path = dir.resolve("saved");

    original.write().save(path.toUri().toString()); // a URI: saving goes through Hadoop's file systems

    try (var files = Files.list(path)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")))
          .containsExactlyInAnyOrder("metadata", "architecture.json", "module.safetensors");
    }
    Path metadataFile;
    try (var files = Files.list(path.resolve("metadata"))) {
      metadataFile = files.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
    }
    JsonNode metadata = json(metadataFile);
    assertThat(metadata.get("class").textValue()).isEqualTo(ModuleTransformer.class.getName());
    assertThat(metadata.get("uid").textValue()).isEqualTo(original.uid());
    assertThat(metadata.get("inFeatures").intValue()).isEqualTo(SavedTransformerSample.IN);
    assertThat(metadata.get("outFeatures").intValue()).isEqualTo(SavedTransformerSample.OUT);
    assertThat(metadata.get("paramMap").get("inputCol").textValue()).isEqualTo("features");
    JsonNode architecture = json(path.resolve("architecture.json"));
    assertThat(architecture.get("type").textValue()).isEqualTo("Sequential");
    assertThat(architecture.get("children")).hasSize(9);
  }

  // -------------------------------------------------------------------------------------------- pipeline

  @Test
  void pipelineModelHoldingTheTransformerSavesAndLoads() throws IOException {
    String[] columns = {"f0", "f1", "f2", "f3", "f4", "f5"};
    Dataset<Row> frame = SavedTransformerSample.frame(spark, SavedTransformerSample.inputs());
    for (int k = 0; k < columns.length; k++) {
      frame = frame.withColumn(columns[k], functions.col("features").getItem(k).cast("double"));
    }
    frame = frame.drop("features");
    ModuleTransformer head = new ModuleTransformer(SavedTransformerSample.module(), 6, 3)
        .setInputCol("assembled").setOutputCol("probabilities");
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
        new SQLTransformer().setStatement("SELECT *, f0 * 2 AS f0_doubled FROM __THIS__"),
        new VectorAssembler().setInputCols(columns).setOutputCol("assembled"),
        head});
    PipelineModel model = pipeline.fit(frame);
    String path = dir.resolve("pipeline").toString();

    model.write().save(path);
    PipelineModel loaded = PipelineModel.load(path);

    assertThat(loaded.stages()).hasSize(3);
    assertThat(loaded.stages()[2]).isInstanceOf(ModuleTransformer.class);
    assertThat(loaded.stages()[2].uid()).isEqualTo(head.uid());
    Dataset<Row> expected = model.transform(frame);
    assertThat(expected.columns()).contains("f0_doubled", "assembled", "probabilities");
    assertSameRows(loaded.transform(frame), expected);
  }

  // ------------------------------------------------------------------------------------------- torch's side

  /** The safetensors header and data of a file, parsed by hand: each tensor's dtype, shape and raw bytes. */
  private record RawTensor(String dtype, List<Integer> shape, byte[] bytes) {}

  private static Map<String, RawTensor> rawTensors(byte[] file) throws IOException {
    long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode header = JSON.readTree(new String(file, 8, (int) length, StandardCharsets.UTF_8));
    Map<String, RawTensor> out = new LinkedHashMap<>();
    for (var field : (Iterable<Map.Entry<String, JsonNode>>) header::fields) {
      if (field.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode info = field.getValue();
      int begin = 8 + (int) length + info.get("data_offsets").get(0).intValue();
      int end = 8 + (int) length + info.get("data_offsets").get(1).intValue();
      List<Integer> shape = new ArrayList<>();
      info.get("shape").forEach(d -> shape.add(d.intValue()));
      out.put(field.getKey(), new RawTensor(info.get("dtype").textValue(), shape, Arrays.copyOfRange(file, begin, end)));
    }
    return out;
  }

  @Test
  void savedWeightsOfATorchTreeHoldTorchsKeysDtypesShapesAndBytes() throws IOException {
    // tree_2 of core's torch fixtures: Linear, BatchNorm1d (with its int64 counter), ReLU, Dropout, Linear, Sigmoid.
    Path torchFile = RepositoryRoot.resolve("core/src/test/resources/torch-trees/tree_2.safetensors");
    byte[] torchBytes = Files.readAllBytes(torchFile);
    Module tree = new Sequential(new Linear(16, 32), new BatchNorm1d(32), new ReLU(), new Dropout(0.2),
        new Linear(32, 4), new Sigmoid());
    tree.loadStateDict(SafetensorsReader.read(torchBytes, torchFile.toString()).tensors(), true);
    tree.eval();
    Path path = dir.resolve("tree_2");

    new ModuleTransformer(tree, 16, 4).setInputCol("features").write().save(path.toString());

    Map<String, RawTensor> torch = rawTensors(torchBytes);
    Map<String, RawTensor> saved = rawTensors(Files.readAllBytes(path.resolve("module.safetensors")));
    JsonNode trees = json(RepositoryRoot.resolve("core/src/test/resources/torch-trees/trees.json"));
    List<String> torchKeys = new ArrayList<>();
    trees.get("trees").get(1).get("state_dict_keys").forEach(k -> torchKeys.add(k.textValue()));
    assertThat(saved.keySet()).containsExactlyInAnyOrderElementsOf(torchKeys);
    assertThat(saved.get("1.num_batches_tracked").dtype()).isEqualTo("I64");
    for (Map.Entry<String, RawTensor> entry : torch.entrySet()) {
      RawTensor ours = saved.get(entry.getKey());
      assertThat(ours.dtype()).as(entry.getKey()).isEqualTo(entry.getValue().dtype());
      assertThat(ours.shape()).as(entry.getKey()).isEqualTo(entry.getValue().shape());
      assertThat(ours.bytes()).as(entry.getKey()).isEqualTo(entry.getValue().bytes());
    }
  }

  @Test
  void loadedSampleGivesTheOutputsTorchComputedFromItsSavedFiles() throws IOException {
    // torch_outputs.json: what check_saved_transformer.py computed in PyTorch from SavedTransformerSample's files.
    JsonNode torch = json(RepositoryRoot.resolve("data/heads/torch_outputs.json"));
    String path = dir.resolve("sample").toString();
    SavedTransformerSample.transformer().write().save(path);
    ModuleTransformer loaded = ModuleTransformer.load(path);

    assertThat(loaded.module()).hasToString(torch.get("repr").textValue());
    List<String> keys = new ArrayList<>();
    torch.get("state_dict").fieldNames().forEachRemaining(keys::add);
    assertThat(loaded.module().stateDict().keySet()).containsExactlyElementsOf(keys);
    assertThat(loaded.module().stateDict().get("1.num_batches_tracked").toLongArray())
        .containsExactly(torch.get("state_dict").get("1.num_batches_tracked").get("values").get(0).longValue());
    float[][] inputs = matrix(torch.get("inputs"));
    assertThat(inputs).isDeepEqualTo(SavedTransformerSample.inputs());
    float[][] ours = SavedTransformerSample.outputs(loaded.transform(SavedTransformerSample.frame(spark, inputs)),
        inputs.length);
    float[][] expected = matrix(torch.get("outputs"));
    for (int r = 0; r < expected.length; r++) {
      for (int c = 0; c < expected[r].length; c++) {
        // Softmax probabilities after a float32 tree: torch and this project sum in different orders.
        assertThat(Math.abs((double) ours[r][c] - expected[r][c])).as("row %d col %d", r, c)
            .isLessThanOrEqualTo(1e-6 + 1e-5 * Math.abs(expected[r][c]));
      }
    }
  }

  private static float[][] matrix(JsonNode rows) {
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = new float[rows.get(r).size()];
      for (int c = 0; c < out[r].length; c++) {
        out[r][c] = (float) rows.get(r).get(c).doubleValue();
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------- overwrite

  @Test
  void refusesAnExistingPathUnlessOverwriting() throws IOException {
    String path = dir.resolve("twice").toString();
    ModuleTransformer first = SavedTransformerSample.transformer();
    first.write().save(path);
    ModuleTransformer second = new ModuleTransformer(new Linear(6, 3, true, 5), 6, 3).setInputCol("features");

    assertThatThrownBy(() -> second.write().save(path))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Path " + path + " already exists");
    second.write().overwrite().save(path);

    ModuleTransformer loaded = ModuleTransformer.load(path);
    assertThat(loaded.uid()).isEqualTo(second.uid());
    assertThat(loaded.module()).isInstanceOf(Linear.class);
  }

  @Test
  void aModuleThatCannotBeSavedIsRefusedBeforeAnExistingSaveIsOverwritten() throws IOException {
    String path = dir.resolve("kept").toString();
    ModuleTransformer saved = SavedTransformerSample.transformer();
    saved.write().save(path);
    Module custom = new Linear(6, 3) {
      private static final long serialVersionUID = 1L;
    };

    assertThatThrownBy(() -> new ModuleTransformer(custom, 6, 3).write().overwrite().save(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot save the architecture of the root module: its class " + custom.getClass().getName());
    assertThat(ModuleTransformer.load(path).uid()).isEqualTo(saved.uid());
  }

  // ---------------------------------------------------------------------------------------- damaged files

  private Path savedSample(String name) {
    Path path = dir.resolve(name);
    try {
      SavedTransformerSample.transformer().write().save(path.toString());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return path;
  }

  /** Replaces a saved file as a user editing it would: its Hadoop checksum goes with the old content. */
  private static void replace(Path file, byte[] content) throws IOException {
    Files.write(file, content);
    Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
  }

  @Test
  void missingArchitectureFileIsNamed() throws IOException {
    Path path = savedSample("no-architecture");
    Files.delete(path.resolve("architecture.json"));

    assertThatThrownBy(() -> ModuleTransformer.load(path.toString()))
        .isInstanceOf(SavedModuleException.class)
        .hasMessageStartingWith("Cannot load the module saved in ")
        .hasMessageContaining("architecture.json does not exist");
  }

  @Test
  void missingWeightsFileIsNamed() throws IOException {
    Path path = savedSample("no-weights");
    Files.delete(path.resolve("module.safetensors"));

    assertThatThrownBy(() -> ModuleTransformer.load(path.toString()))
        .isInstanceOf(SavedModuleException.class)
        .hasMessageContaining("module.safetensors does not exist");
  }

  @Test
  void truncatedWeightsFileIsNamedWithTheProblem() throws IOException {
    Path path = savedSample("truncated");
    Path weights = path.resolve("module.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    replace(weights, Arrays.copyOf(bytes, bytes.length - 10));

    assertThatThrownBy(() -> ModuleTransformer.load(path.toString()))
        .isInstanceOf(SavedModuleException.class)
        .hasMessageContaining("Cannot read weights from ")
        .hasMessageContaining("module.safetensors")
        .hasCauseInstanceOf(WeightFileException.class);
  }

  @Test
  void damagedArchitectureIsNamedWithTheProblem() throws IOException {
    Path path = savedSample("bad-architecture");
    Path architecture = path.resolve("architecture.json");
    replace(architecture, Files.readString(architecture).replace("\"BatchNorm1d\"", "\"BatchNorm2d\"")
        .getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> ModuleTransformer.load(path.toString()))
        .isInstanceOf(SavedModuleException.class)
        .hasMessageContaining("architecture.json: Invalid architecture: module '1' has the unknown type 'BatchNorm2d'");
  }

  @Test
  void weightsThatDoNotFitTheArchitectureAreReportedAsTorchWouldList() throws IOException {
    Path path = savedSample("misfit");
    Map<String, Tensor> state = new LinkedHashMap<>(SavedTransformerSample.module().stateDict());
    state.remove("4.bias");
    replace(path.resolve("module.safetensors"),
        SafetensorsWriter.toBytes(state, null));

    assertThatThrownBy(() -> ModuleTransformer.load(path.toString()))
        .isInstanceOf(SavedModuleException.class)
        .hasMessageContaining("module.safetensors do not fit the architecture in architecture.json: Error(s) in"
            + " loading state_dict for Sequential:\n\tMissing key(s) in state_dict: \"4.bias\".");
  }
}
