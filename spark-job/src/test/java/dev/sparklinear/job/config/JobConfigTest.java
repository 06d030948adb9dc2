package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.spark.OutputLayout;
import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
  private static final String SOURCE = "conf/x.yaml";

  /** The smallest valid config: only the required keys. */
  private static final String MINIMAL = """
      module:
        in-features: 4
        out-features: 3
      input:
        path: data/in.parquet
        column: features
      output:
        path: out/x
      """;

  private static final String FULL_NESTED = """
      module:
        in-features: 4
        out-features: 3
        bias: true
        init-seed: 42
        weights:
          format: inline
          weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
          bias: [0.1, 0.2, 0.3]
      input:
        path: data/seed.parquet
        format: csv
        columns: [f0, f1, f2, f3]
        options: {header: "true", inferSchema: true}
      output:
        path: out/seed
        format: json
        column: y
        layout: columns
        mode: overwrite
        keep: [id]
      block:
        max-rows: 128
        max-bytes: 65536
      spark:
        master: local[2]
        sql.shuffle.partitions: 4
      """;

  private static JobConfig parse(String yaml, String... overrides) {
    return JobConfig.parse(yaml, SOURCE, List.of(overrides));
  }

  private static ConfigException problemsOf(String yaml, String... overrides) {
    return catchThrowableOfType(ConfigException.class, () -> parse(yaml, overrides));
  }

  @Test
  void parsesNestedYaml() {
    JobConfig config = parse(FULL_NESTED);

    assertThat(config.source()).isEqualTo(SOURCE);
    assertThat(config.module().inFeatures()).isEqualTo(4);
    assertThat(config.module().outFeatures()).isEqualTo(3);
    assertThat(config.module().bias()).isTrue();
    assertThat(config.module().initSeed()).isEqualTo(42L);
    assertThat(config.module().weights().format()).isEqualTo(WeightsFormat.INLINE);
    assertThat(config.module().weights().weight()).isEqualTo(List.of(
        List.of(1f, 2f, 3f, 4f), List.of(2f, 3f, 4f, 5f), List.of(3f, 4f, 5f, 6f)));
    assertThat(config.module().weights().bias()).containsExactly(0.1f, 0.2f, 0.3f);
    assertThat(config.input().path()).isEqualTo("data/seed.parquet");
    assertThat(config.input().format()).isEqualTo("csv");
    assertThat(config.input().column()).isNull();
    assertThat(config.input().columns()).containsExactly("f0", "f1", "f2", "f3");
    assertThat(config.input().options()).containsExactly(Map.entry("header", "true"), Map.entry("inferSchema", "true"));
    assertThat(config.output().path()).isEqualTo("out/seed");
    assertThat(config.output().format()).isEqualTo(OutputFormat.JSON);
    assertThat(config.output().column()).isEqualTo("y");
    assertThat(config.output().layout()).isEqualTo(OutputLayout.COLUMNS);
    assertThat(config.output().mode()).isEqualTo(OutputMode.OVERWRITE);
    assertThat(config.output().keep()).isEqualTo(List.of("id"));
    assertThat(config.block().maxRows()).isEqualTo(128);
    assertThat(config.block().maxBytes()).isEqualTo(65536L);
    assertThat(config.sparkConf()).containsExactly(
        Map.entry("spark.master", "local[2]"), Map.entry("spark.sql.shuffle.partitions", "4"));
  }

  @Test
  void dottedAndMixedKeysEqualNestedOnes() {
    String dotted = """
        module.in-features: 4
        module.out-features: 3
        module.bias: true
        module.init-seed: 42
        module.weights.format: inline
        module.weights.weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
        module.weights.bias: [0.1, 0.2, 0.3]
        input.path: data/seed.parquet
        input.format: csv
        input.columns: [f0, f1, f2, f3]
        input.options.header: "true"
        input.options.inferSchema: true
        output.path: out/seed
        output.format: json
        output.column: y
        output.layout: columns
        output.mode: overwrite
        output.keep: [id]
        block.max-rows: 128
        block.max-bytes: 65536
        spark.master: local[2]
        spark.sql.shuffle.partitions: 4
        """;
    String mixed = """
        module:
          in-features: 4
          out-features: 3
          init-seed: 42
          weights.weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
          weights:
            bias: [0.1, 0.2, 0.3]
        input:
          path: data/seed.parquet
          format: csv
          columns: [f0, f1, f2, f3]
          options: {header: "true", inferSchema: true}
        output: {path: out/seed, format: json, column: y, layout: columns, mode: overwrite, keep: [id]}
        block.max-rows: 128
        block:
          max-bytes: 65536
        spark.master: local[2]
        spark:
          sql:
            shuffle.partitions: 4
        """;

    JobConfig nested = parse(FULL_NESTED);
    assertThat(parse(dotted)).isEqualTo(nested);
    assertThat(parse(mixed)).isEqualTo(nested);
  }

  @Test
  void appliesDocumentedDefaults() {
    JobConfig config = parse(MINIMAL);

    assertThat(config.module().bias()).isTrue();
    assertThat(config.module().initSeed()).isNull();
    assertThat(config.module().weights().format()).isEqualTo(WeightsFormat.INLINE);
    assertThat(config.module().weights().weight()).isNull();
    assertThat(config.module().weights().bias()).isNull();
    assertThat(config.module().weights().path()).isNull();
    assertThat(config.module().weights().biasPath()).isNull();
    assertThat(config.module().weights().prefix()).isEmpty();
    assertThat(config.input().format()).isEqualTo("parquet");
    assertThat(config.input().column()).isEqualTo("features");
    assertThat(config.input().columns()).isNull();
    assertThat(config.input().options()).isEmpty();
    assertThat(config.output().format()).isEqualTo(OutputFormat.PARQUET);
    assertThat(config.output().column()).isEqualTo("output");
    assertThat(config.output().layout()).isEqualTo(OutputLayout.ARRAY);
    assertThat(config.output().parquetLists()).isEqualTo(ParquetLists.THREE_LEVEL);
    assertThat(config.output().mode()).isEqualTo(OutputMode.ERRORIFEXISTS);
    assertThat(config.output().keep()).isNull();
    assertThat(config.block().maxRows()).isEqualTo(4096);
    assertThat(config.block().maxBytes()).isEqualTo(8L * 1024 * 1024);
    assertThat(config.sparkConf()).isEmpty();
  }

  @Test
  void emptyKeepListKeepsNoColumns() {
    assertThat(parse(MINIMAL + "output.keep: []\n").output().keep()).isEmpty();
  }

  @Test
  void enumValuesIgnoreCase() {
    assertThat(parse(MINIMAL, "output.mode=OverWrite").output().mode()).isEqualTo(OutputMode.OVERWRITE);
  }

  @Test
  void readsFileFormatsWithPathsAndPrefix() {
    JobConfig safetensors = parse(MINIMAL + """
        module.weights:
          format: safetensors
          path: models/fc.safetensors
          prefix: "fc."
        """);
    assertThat(safetensors.module().weights().format()).isEqualTo(WeightsFormat.SAFETENSORS);
    assertThat(safetensors.module().weights().path()).isEqualTo("models/fc.safetensors");
    assertThat(safetensors.module().weights().prefix()).isEqualTo("fc.");

    JobConfig npy = parse(MINIMAL + "module.weights: {format: npy, path: w.npy, bias-path: b.npy}\n");
    assertThat(npy.module().weights().format()).isEqualTo(WeightsFormat.NPY);
    assertThat(npy.module().weights().path()).isEqualTo("w.npy");
    assertThat(npy.module().weights().biasPath()).isEqualTo("b.npy");
  }

  @Test
  void overridesBeatTheFile() {
    JobConfig config = parse(MINIMAL + "block.max-rows: 10\nmodule.bias: true\n",
        "block.max-rows=7", "module.bias=false", "output.path=out/other", "spark.master=local[*]");

    assertThat(config.block().maxRows()).isEqualTo(7);
    assertThat(config.module().bias()).isFalse();
    assertThat(config.output().path()).isEqualTo("out/other");
    assertThat(config.sparkConf()).containsExactly(Map.entry("spark.master", "local[*]"));
  }

  @Test
  void laterOverrideOfTheSameKeyWins() {
    assertThat(parse(MINIMAL, "block.max-rows=7", "block.max-rows=9").block().maxRows()).isEqualTo(9);
  }

  @Test
  void overridesSetListsAndMatrices() {
    JobConfig config = parse(MINIMAL.replace("in-features: 4", "in-features: 2").replace("out-features: 3",
            "out-features: 2"),
        "input.column=null", "input.columns=[a,b]", "module.weights.weight=[[1,2],[3,4]]",
        "module.weights.bias=[0.5, -0.5]", "input.options.header=true");

    assertThat(config.input().column()).isNull();
    assertThat(config.input().columns()).containsExactly("a", "b");
    assertThat(config.module().weights().weight()).isEqualTo(List.of(
        List.of(1f, 2f), List.of(3f, 4f)));
    assertThat(config.module().weights().bias()).containsExactly(0.5f, -0.5f);
    assertThat(config.input().options()).containsExactly(Map.entry("header", "true"));
  }

  @Test
  void overrideOfATextKeyKeepsTheTextAsWritten() {
    JobConfig config = parse(MINIMAL, "output.column=007", "module.weights.prefix=", "input.path=*.parquet");

    assertThat(config.output().column()).isEqualTo("007");
    assertThat(config.module().weights().prefix()).isEmpty();
    assertThat(config.input().path()).isEqualTo("*.parquet");
  }

  @Test
  void overrideOfAnUnknownKeyFails() {
    ConfigException e = problemsOf(MINIMAL, "block.max-row=7");

    assertThat(e.problems()).containsExactly(
        "Unknown config key 'block.max-row' in --set block.max-row=7; did you mean 'block.max-rows'?");
  }

  @Test
  void overrideWithoutEqualsSignFails() {
    assertThat(problemsOf(MINIMAL, "block.max-rows").problems()).containsExactly(
        "Invalid override 'block.max-rows': expected --set key=value, e.g. --set block.max-rows=1024");
  }

  @Test
  void unknownKeyNamesTheNearestKey() {
    ConfigException e = problemsOf(MINIMAL.replace("in-features: 4", "in-feature: 4"));

    assertThat(e.problems()).contains(
        "Unknown config key 'module.in-feature' in conf/x.yaml; did you mean 'module.in-features'?");
  }

  @Test
  void unknownKeyInTheWrongSectionNamesTheRightOne() {
    assertThat(problemsOf(MINIMAL + "input.max-rows: 5\n").problems()).containsExactly(
        "Unknown config key 'input.max-rows' in conf/x.yaml; did you mean 'block.max-rows'?");
    assertThat(problemsOf(MINIMAL + "keep: [id]\n").problems()).containsExactly(
        "Unknown config key 'keep' in conf/x.yaml; did you mean 'output.keep'?");
    assertThat(problemsOf(MINIMAL + "sprak.master: local\n").problems()).containsExactly(
        "Unknown config key 'sprak.master' in conf/x.yaml; did you mean 'spark.master'?");
  }

  @Test
  void unknownKeyFarFromAnyKnownKeyPointsToTheDocs() {
    assertThat(problemsOf(MINIMAL + "colour: blue\n").problems()).containsExactly(
        "Unknown config key 'colour' in conf/x.yaml; the known keys are listed in docs/config.md");
  }

  @Test
  void sectionGivenAsAValueIsAnError() {
    assertThat(problemsOf(MINIMAL + "block: 5\n").problems()).containsExactly(
        "Config section 'block' in conf/x.yaml must be a map of keys such as 'block.max-rows', got 5");
  }

  @Test
  void wrongTypeNamesKeyExpectationAndValue() {
    ConfigException e = problemsOf(MINIMAL.replace("in-features: 4", "in-features: four")
        + "module.bias: yes please\n");

    assertThat(e.problems()).contains(
        "module.in-features in conf/x.yaml must be a positive integer, got 'four'",
        "module.bias in conf/x.yaml must be true or false, got 'yes please'");
  }

  @Test
  void blankOrQuotedNumbersAndBooleansAreNotValues() {
    ConfigException e = problemsOf(MINIMAL + "block.max-rows: \" \"\nmodule.bias: \"true\"\n", "module.in-features=\t");

    assertThat(e.problems()).containsExactly(
        "module.bias in conf/x.yaml must be true or false, got 'true'",
        "module.in-features in --set module.in-features=\t must be a positive integer, got '\t'",
        "block.max-rows in conf/x.yaml must be a positive integer, got ' '");
  }

  @Test
  void nullIsAnInvalidRowsPolicyAndElsewhereLeavesAKeyUnset() {
    assertThat(parse(MINIMAL + "invalid-rows: null\n").invalidRows()).isEqualTo(InvalidRowPolicy.NULL);
    assertThat(parse(MINIMAL, "invalid-rows=null").invalidRows()).isEqualTo(InvalidRowPolicy.NULL);
    assertThat(parse(MINIMAL + "module.init-seed: null\n").module().initSeed()).isNull();
  }

  @Test
  void wrongTypeFromAnOverrideNamesTheOverride() {
    assertThat(problemsOf(MINIMAL, "module.out-features=3.5").problems()).containsExactly(
        "module.out-features in --set module.out-features=3.5 must be a positive integer, got 3.5");
  }

  @Test
  void missingRequiredKeysAreAllReported() {
    ConfigException e = problemsOf("block.max-rows: 5\n");

    assertThat(e.problems()).containsExactly(
        "Missing required key 'module.in-features' in conf/x.yaml; add it, or pass --set"
            + " module.in-features=<positive integer>",
        "Missing required key 'module.out-features' in conf/x.yaml; add it, or pass --set"
            + " module.out-features=<positive integer>",
        "Missing required key 'input.path' in conf/x.yaml; add it, or pass --set input.path=<non-empty string>",
        "Missing required key 'output.path' in conf/x.yaml; add it, or pass --set output.path=<non-empty string>",
        "Missing required key 'input.column' or 'input.columns' in conf/x.yaml; set exactly one: input.column for a"
            + " vector column, input.columns for a list of scalar columns");
  }

  @Test
  void emptyFileReportsTheRequiredKeys() {
    assertThat(problemsOf("# nothing here\n").problems()).hasSize(5)
        .allSatisfy(problem -> assertThat(problem).startsWith("Missing required key"));
  }

  @Test
  void bothColumnAndColumnsIsAnError() {
    assertThat(problemsOf(MINIMAL + "input.columns: [a, b, c, d]\n").problems()).containsExactly(
        "Both input.column and input.columns are set in conf/x.yaml; set exactly one: input.column for a vector"
            + " column, input.columns for a list of scalar columns");
  }

  @Test
  void columnsMustMatchInFeatures() {
    assertThat(problemsOf(MINIMAL, "input.column=null", "input.columns=[a,b,c]").problems()).containsExactly(
        "input.columns in --set input.columns=[a,b,c] lists 3 columns, expected in_features = 4; list one column"
            + " per input feature");
  }

  @Test
  void blockSizesMustBePositive() {
    ConfigException e = problemsOf(MINIMAL + "block: {max-rows: 0, max-bytes: -8}\n");

    assertThat(e.problems()).containsExactly(
        "block.max-rows in conf/x.yaml must be a positive integer, got 0",
        "block.max-bytes in conf/x.yaml must be a positive integer, got -8");
  }

  @Test
  void weightOfTheWrongShapeIsAnError() {
    ConfigException e = problemsOf(MINIMAL
        + "module.weights.weight: [[1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [3, 4, 5, 6, 7]]\nmodule.bias: false\n");

    assertThat(e.problems()).containsExactly(
        "module.weights.weight has shape [3, 5], expected [out_features, in_features] = [3, 4] (in conf/x.yaml);"
            + " give one row of in_features values per output");
  }

  @Test
  void biasOfTheWrongShapeIsAnError() {
    ConfigException e = problemsOf(MINIMAL
        + "module.weights: {weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]], bias: [1, 2]}\n");

    assertThat(e.problems()).containsExactly(
        "module.weights.bias has shape [2], expected [out_features] = [3] (in conf/x.yaml)");
  }

  @Test
  void raggedWeightIsAnError() {
    ConfigException e = problemsOf(MINIMAL
        + "module.weights.weight: [[1, 2, 3, 4], [2, 3, 4], [3, 4, 5, 6]]\nmodule.bias: false\n");

    assertThat(e.problems()).containsExactly(
        "module.weights.weight in conf/x.yaml must be a list of rows of finite numbers, all of one length, e.g."
            + " [[1, 2], [3, 4]], got [[1, 2, 3, 4], [2, 3, 4], [3, 4, 5, 6]]");
  }

  @Test
  void nonNumericWeightIsAnError() {
    ConfigException e = problemsOf(MINIMAL
        + "module.weights.weight: [[1, 2, 3, 4], [2, x, 4, 5], [3, 4, 5, 6]]\nmodule.bias: false\n");
    ConfigException overflow = problemsOf(MINIMAL
        + "module.weights.weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 1e39]]\nmodule.bias: false\n");

    assertThat(e.problems()).containsExactly(
        "module.weights.weight in conf/x.yaml must be a list of rows of finite numbers, all of one length, e.g."
            + " [[1, 2], [3, 4]], got [[1, 2, 3, 4], [2, x, 4, 5], [3, 4, 5, 6]]");
    assertThat(overflow.problems()).containsExactly(
        "module.weights.weight in conf/x.yaml must be a list of rows of finite numbers, all of one length, e.g."
            + " [[1, 2], [3, 4]], got [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 1.0E39]]");
  }

  @Test
  void biasGivenWhileTheLayerHasNoneIsAnError() {
    ConfigException e = problemsOf(MINIMAL + """
        module.bias: false
        module.weights.weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
        module.weights.bias: [0.1, 0.2, 0.3]
        """);

    assertThat(e.problems()).containsExactly(
        "module.weights.bias in conf/x.yaml is set but module.bias is false; remove module.weights.bias, or set"
            + " module.bias: true");
  }

  @Test
  void inlineWeightWithoutItsBiasIsAnError() {
    ConfigException e = problemsOf(MINIMAL + "module.weights.weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]\n");

    assertThat(e.problems()).containsExactly(
        "Missing key 'module.weights.bias' in conf/x.yaml: module.bias is true and module.weights.weight is given,"
            + " so the bias is needed too; give it, or set module.bias: false");
  }

  @Test
  void keysOfAnotherWeightsFormatAreErrors() {
    ConfigException e = problemsOf(MINIMAL + "module.weights: {format: inline, path: w.npy, prefix: fc.}\n");

    assertThat(e.problems()).containsExactly(
        "module.weights.path in conf/x.yaml is only used with module.weights.format: safetensors or npy, but"
            + " module.weights.format is inline; remove module.weights.path, or change the format",
        "module.weights.prefix in conf/x.yaml is only used with module.weights.format: safetensors, but"
            + " module.weights.format is inline; remove module.weights.prefix, or change the format");
  }

  @Test
  void fileFormatsNeedTheirFiles() {
    assertThat(problemsOf(MINIMAL + "module.weights.format: safetensors\n").problems()).containsExactly(
        "Missing key 'module.weights.path' in conf/x.yaml: module.weights.format is safetensors, so the weights"
            + " file is needed; give its path");
    assertThat(problemsOf(MINIMAL + "module.weights: {format: npy, path: w.npy}\n").problems()).containsExactly(
        "Missing key 'module.weights.bias-path' in conf/x.yaml: module.bias is true and module.weights.format is"
            + " npy, so the bias file is needed; give it, or set module.bias: false");
  }

  @Test
  void hyphenatedEnumValuesAreSpelledWithHyphens() {
    assertThat(parse(MINIMAL + "output.parquet-lists: two-level\n").output().parquetLists())
        .isEqualTo(ParquetLists.TWO_LEVEL);
    assertThat(parse(MINIMAL + "output.parquet-lists: two-level\n", "output.parquet-lists=Three-Level").output()
        .parquetLists()).isEqualTo(ParquetLists.THREE_LEVEL);
    assertThat(problemsOf(MINIMAL + "output.parquet-lists: three_level\n").problems()).containsExactly(
        "output.parquet-lists in conf/x.yaml must be one of [two-level, three-level], got 'three_level'");
  }

  @Test
  void modulePrecisionIsFloat32UnlessSetToCompensated() {
    assertThat(parse(MINIMAL).module().precision()).isEqualTo(ModulePrecision.FLOAT32);
    assertThat(parse(MINIMAL).resolved()).containsEntry("module.precision", "float32");
    assertThat(parse(MINIMAL + "module.precision: compensated\n").module().precision())
        .isEqualTo(ModulePrecision.COMPENSATED);
    assertThat(parse(MINIMAL, "module.precision=Compensated").module().precision())
        .isEqualTo(ModulePrecision.COMPENSATED);
    assertThat(parse(MINIMAL + "module.precision: compensated\n", "module.precision=float32").module().precision())
        .isEqualTo(ModulePrecision.FLOAT32);
    assertThat(parse(MINIMAL, "module.precision=compensated").resolved())
        .containsEntry("module.precision", "compensated");
  }

  @Test
  void unknownModulePrecisionNamesTheKeyTheValueAndTheAllowedValues() {
    assertThat(problemsOf(MINIMAL + "module.precision: float64\n").problems()).containsExactly(
        "module.precision in conf/x.yaml must be one of [float32, compensated], got 'float64'");
    assertThat(problemsOf(MINIMAL, "module.precision=32").problems()).containsExactly(
        "module.precision in --set module.precision=32 must be one of [float32, compensated], got '32'");
  }

  @Test
  void unknownEnumValueListsTheAllowedValues() {
    ConfigException e = problemsOf(MINIMAL + "output.mode: append\noutput.layout: matrix\n");

    assertThat(e.problems()).containsExactly(
        "output.mode in conf/x.yaml must be one of [errorifexists, overwrite], got 'append'",
        "output.layout in conf/x.yaml must be one of [array, vector, columns], got 'matrix'");
  }

  @Test
  void duplicateKeyInOneMapIsAnError() {
    ConfigException e = problemsOf(MINIMAL.replace("out-features: 3", "out-features: 3\n  in-features: 5"));

    assertThat(e.problems()).singleElement().asString()
        .startsWith("Cannot parse conf/x.yaml at line 4")
        .contains("Duplicate field 'in-features'")
        .endsWith("; each key may be given once");
  }

  @Test
  void sameKeyNestedAndDottedIsAnError() {
    assertThat(problemsOf(MINIMAL + "module.in-features: 4\n").problems()).containsExactly(
        "Config key 'module.in-features' is set twice in conf/x.yaml (once nested and once with dots); keep one");
  }

  @Test
  void malformedYamlIsAnError() {
    ConfigException e = problemsOf("module: [in-features: 4\n");

    assertThat(e).hasMessageStartingWith("Invalid job config conf/x.yaml: Cannot parse conf/x.yaml");
  }

  @Test
  void topLevelMustBeAMap() {
    assertThat(problemsOf("- a\n- b\n").problems()).containsExactly(
        "conf/x.yaml must hold a map of config keys (such as 'module:' and 'input:'), got [a, b]");
  }

  @Test
  void gathersEveryProblemInOneException() {
    String broken = """
        module:
          in-feature: 4
          out-features: 3
          bias: false
          weights.weight: [[1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [3, 4, 5, 6, 7]]
          weights.bias: [1, 2, 3]
        input:
          path: data/in.parquet
          column: features
          columns: [a, b]
        output:
          path: out/x
          mode: append
        block.max-rows: 0
        """;

    assertThatThrownBy(() -> parse(broken, "block.max-bytes=lots"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("""
            Invalid job config conf/x.yaml (7 problems):
              - Unknown config key 'module.in-feature' in conf/x.yaml; did you mean 'module.in-features'?
              - output.mode in conf/x.yaml must be one of [errorifexists, overwrite], got 'append'
              - block.max-rows in conf/x.yaml must be a positive integer, got 0
              - block.max-bytes in --set block.max-bytes=lots must be a positive integer, got 'lots'
              - Missing required key 'module.in-features' in conf/x.yaml; add it, or pass --set \
            module.in-features=<positive integer>
              - Both input.column and input.columns are set in conf/x.yaml; set exactly one: input.column for a \
            vector column, input.columns for a list of scalar columns
              - module.weights.bias in conf/x.yaml is set but module.bias is false; remove module.weights.bias, or \
            set module.bias: true""");
    assertThat(problemsOf(broken).source()).isEqualTo(SOURCE);
  }

  @Test
  void sparkKeysPassThroughAsStrings() {
    JobConfig config = parse(MINIMAL + """
        spark:
          executor.memory: 2g
          sql.adaptive.enabled: false
          memory.fraction: 0.6
        """);

    assertThat(config.sparkConf()).containsExactly(
        Map.entry("spark.executor.memory", "2g"),
        Map.entry("spark.sql.adaptive.enabled", "false"),
        Map.entry("spark.memory.fraction", "0.6"));
  }

  @Test
  void sparkValuesMustBeScalars() {
    assertThat(problemsOf(MINIMAL + "spark.jars: [a.jar, b.jar]\n").problems()).containsExactly(
        "spark.jars in conf/x.yaml must be a string, number or boolean, got [a.jar, b.jar]");
  }

  @Test
  void resolvedListsEveryDocumentedKeyThenSparkKeys() {
    JobConfig config = parse(FULL_NESTED);

    assertThat(config.resolved().keySet()).containsExactlyElementsOf(concat(ConfigKey.keys(),
        List.of("spark.master", "spark.sql.shuffle.partitions")));
    assertThat(config.resolved())
        .containsEntry("module.weights.weight", "matrix [3, 4]")
        .containsEntry("module.weights.bias", "vector [3]")
        .containsEntry("output.layout", "columns")
        .containsEntry("block.max-bytes", 65536L)
        .containsEntry("spark.sql.shuffle.partitions", "4");
  }

  @Test
  void resolvedShowsDefaultsAndUnsetKeys() {
    Map<String, Object> resolved = parse(MINIMAL).resolved();

    assertThat(resolved.keySet()).containsExactlyElementsOf(ConfigKey.keys());
    assertThat(resolved)
        .containsEntry("module.bias", true)
        .containsEntry("module.init-seed", null)
        .containsEntry("output.mode", "errorifexists")
        .containsEntry("block.max-rows", 4096)
        .containsEntry("block.max-bytes", 8388608L)
        .containsEntry("output.keep", null);
  }

  @Test
  void inlineWeightsCannotBeChanged() {
    JobConfig config = parse(FULL_NESTED);

    assertThatThrownBy(() -> config.module().weights().weight().get(0).set(0, 99f))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.module().weights().bias().set(0, 99f))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(config.module().weights().weight().get(0).get(0)).isEqualTo(1f);
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    JobConfig config = parse(FULL_NESTED);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(config);
    }
    Object copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = in.readObject();
    }

    assertThat(copy).isEqualTo(config).isNotSameAs(config);
    assertThat(((JobConfig) copy).input().options()).containsExactly(
        Map.entry("header", "true"), Map.entry("inferSchema", "true"));
  }

  @Test
  void loadNamesTheFileInMessages(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("job.yaml"), MINIMAL + "block.max-rows: many\n");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> JobConfig.load(file, List.of()));

    assertThat(e.source()).isEqualTo(file.toString());
    assertThat(e.problems()).containsExactly(
        "block.max-rows in " + file + " must be a positive integer, got 'many'");
    assertThat(JobConfig.load(file, List.of("block.max-rows=3")).block().maxRows()).isEqualTo(3);
  }

  @Test
  void loadOfAMissingFileSaysSo(@TempDir Path dir) {
    Path file = dir.resolve("absent.yaml");

    assertThatThrownBy(() -> JobConfig.load(file, List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Cannot read config file " + file + ": no such file");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream()).collect(Collectors.toList());
  }
}
