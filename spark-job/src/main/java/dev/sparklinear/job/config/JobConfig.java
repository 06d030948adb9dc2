package dev.sparklinear.job.config;

import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.spark.OutputLayout;
import dev.sparklinear.spark.ParquetReaderKind;
import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of one job run: the layer, where rows come from and go to, how rows are blocked, the hooks, the fit
 * ({@code spark-linear fit} only; null without a {@code fit} section) and Spark settings. One record per config section; every key is declared, typed and documented ({@link Key}) on its
 * component. Immutable and {@link Serializable}, so it can be shipped to executors.
 *
 * <p>Built from, in order of precedence: {@code --set key=value} overrides, then the YAML config file, then the
 * defaults (also in {@code docs/config.md}). Keys may be nested or dotted:
 *
 * <pre>{@code
 * JobConfig config = JobConfig.load(Path.of("conf/seed-example.yaml"), List.of("block.max-rows=1024"));
 * config.module().inFeatures(); // 4
 * config.block().maxRows();      // 1024
 * }</pre>
 *
 * <p>Every problem in the file and the overrides (an unknown key, a value of the wrong type, a missing key, a weight
 * matrix of the wrong shape, ...) is reported together in one {@link ConfigException}. Relative paths are kept as
 * written; the job resolves them.
 */
public record JobConfig(String source, ModuleConfig module, InputConfig input, OutputConfig output, BlockConfig block,
    HooksConfig hooks, FitConfig fit,
    @Key(doc = "What to do with a row whose features are null, hold a null, have the wrong width, or (with a"
        + " `nan-guard` pre-hook whose action is `fail`) hold NaN or infinity: `error` fails the job naming the row,"
        + " `skip` drops and counts it, `null` writes a null output, `quarantine` writes it with a `reason` column to"
        + " `output.quarantine-path`. The run summary counts each by reason: rows in = rows out + skipped +"
        + " quarantined.", defaultYaml = "error") InvalidRowPolicy invalidRows,
    Map<String, String> spark) implements Serializable {

  /** {@code module}: one Linear ({@code in-features}, {@code out-features}) or a list of layers, and the weights. */
  public record ModuleConfig(
      @Key(doc = "Length of each input feature vector (PyTorch `in_features`) of the single Linear.",
          expect = "a positive integer", required = "without `module.layers`") Integer inFeatures,
      @Key(doc = "Length of each output vector (PyTorch `out_features`) of the single Linear.",
          expect = "a positive integer", required = "without `module.layers`") Integer outFeatures,
      @Key(doc = "Whether the single Linear adds a bias: `y = x W^T + b`. With `false` the layer has no bias parameter"
          + " at all.", expect = "true or false", defaultYaml = "true") Boolean bias,
      @Key(doc = "The module as a list of layers, run as PyTorch's `nn.Sequential` of the same list, instead of"
          + " `module.in-features`, `module.out-features` and `module.bias`. An entry is a layer name (`relu`) or a"
          + " map with `type` and torch's arguments in kebab case: `{type: linear, in-features: 48, out-features:"
          + " 32}`. Arguments left out take torch's defaults; BatchNorm and Dropout run as in torch's `eval()`. The"
          + " parameters are keyed as the `nn.Sequential`'s state dict: `0.weight`, `1.running_mean`, ... (the index"
          + " is the position in the list, activations included). The widths are checked along the list before any"
          + " task runs.", expect = Layer.EXPECT, required = "either this or `module.in-features` and `module.out-features`")
      List<Layer> layers,
      @Key(doc = "Seed of the PyTorch-style random initialisation (Kaiming-uniform weight, uniform bias), used when no"
          + " weights are given: the same seed gives the same parameters. Ignored when weights are given. With"
          + " `module.layers` each Linear takes the next seed of a generator seeded with it: the same seed gives the"
          + " same module, though not the values PyTorch would draw.",
          expect = "an integer", defaultText = "a fresh seed") Long initSeed,
      @Key(doc = "How exactly every Linear layer of the module computes its float32 outputs: `float32`, float32"
          + " multiply-adds (as accurate as PyTorch's float32 `nn.Linear` or more, the fastest); `compensated`,"
          + " compensated dot products (Ogita-Rump-Oishi Dot2 with FMA-based error-free transformations): each output"
          + " within about half an ulp of the exact value, the kernel several times slower (see the README). The run"
          + " summary names the kernel `compensated`. `fit` computes its gradients in float64 either way.",
          defaultYaml = "float32") ModulePrecision precision,
      WeightsConfig weights) implements Serializable {
    public ModuleConfig {
      Values.positive(inFeatures);
      Values.positive(outFeatures);
      layers = layers == null ? null : List.copyOf(layers);
    }

    /**
     * The width of the vectors between the layers: element {@code i} goes into {@code module.layers[i]}, the last
     * comes out of the module; {@code [in-features, out-features]} for the single Linear. A layer that keeps any
     * width (an activation) passes on the width before it; the first width is that of the first layer that has one.
     */
    public List<Integer> widths() {
      if (layers == null) {
        return Arrays.asList(inFeatures, outFeatures);
      }
      Integer width = layers.stream().map(Layer::inWidth).filter(Objects::nonNull).findFirst().orElse(null);
      List<Integer> widths = new ArrayList<>();
      widths.add(width);
      for (Layer layer : layers) {
        width = layer.outWidth() != null ? layer.outWidth() : width;
        widths.add(width);
      }
      return widths;
    }

    /** The width of the module's input vectors. */
    public Integer inputWidth() {
      return widths().get(0);
    }

    /** The width of the module's output vectors. */
    public Integer outputWidth() {
      return widths().get(widths().size() - 1);
    }
  }

  /** {@code module.weights}: inline parameters, or the files holding them. */
  public record WeightsConfig(
      @Key(doc = "Where the parameters come from: `inline` in this file, or a `safetensors` or `npy` file (`npy` only"
          + " for the single Linear). With `inline` and no `module.weights.weight` (or `module.weights.tensors`) the"
          + " module is randomly initialised from `module.init-seed`.", defaultYaml = "inline") WeightsFormat format,
      @Key(doc = "The weight matrix, shape `[out_features, in_features]` (one row per output), e.g. `[[1, 2], [3,"
          + " 4]]`. Only with format `inline`.", expect = "a list of rows of finite numbers, all of one length, e.g."
          + " [[1, 2], [3, 4]]") List<List<Float>> weight,
      @Key(doc = "The bias vector, shape `[out_features]`. Only with format `inline`; not allowed when `module.bias`"
          + " is false.", expect = "a list of finite numbers, e.g. [0.1, 0.2]",
          required = "with an inline weight, when `module.bias` is true") List<Float> bias,
      @Key(doc = "The safetensors file, or the `.npy` file of the weight. A relative path is resolved by the job.",
          expect = "a non-empty string", required = "with format `safetensors` or `npy`") String path,
      @Key(doc = "The `.npy` file of the bias. Only with format `npy`.", expect = "a non-empty string",
          required = "with format `npy`, when `module.bias` is true") String biasPath,
      @Key(doc = "State-dict key prefix inside a safetensors file: with `fc.` the tensors `fc.weight` and `fc.bias`"
          + " are read; with `module.layers` and `head.`, the tensors `head.0.weight`, `head.0.bias`, ... Only with"
          + " format `safetensors`.", expect = "a string", defaultYaml = "\"\"") String prefix,
      @Key(doc = "The parameters of `module.layers` written inline, by state-dict key: `{\"0.weight\": [[1, 2], [3,"
          + " 4]], \"0.bias\": [0.5, -0.5], \"1.num_batches_tracked\": 100}`. Every key of the module is needed and"
          + " no other is allowed, as in PyTorch's strict `load_state_dict`. Only with format `inline`.",
          expect = "a map from state-dict key to a tensor: " + InlineTensor.EXPECT)
      Map<String, InlineTensor> tensors) implements Serializable {
    public WeightsConfig {
      weight = Values.matrix(weight);
      bias = Values.vector(bias);
      Values.notBlank(path);
      Values.notBlank(biasPath);
      tensors = Values.ordered(tensors);
    }
  }

  /** {@code input}: what is read, and which columns hold the features. */
  public record InputConfig(
      @Key(doc = "The input file or directory (a local path or a Hadoop URI). A relative path is resolved by the job.",
          expect = "a non-empty string", required = "yes") String path,
      @Key(doc = "Any Spark file source to read with: `parquet`, `json`, `csv`, `orc`, ...",
          expect = "a non-empty string", defaultYaml = "parquet") String format,
      @Key(doc = "The column holding each row's feature vector (an array of numbers or a Spark ML vector) of length"
          + " `in_features`.", expect = "a non-empty string",
          required = "exactly one of `input.column`, `input.columns`") String column,
      @Key(doc = "Numeric scalar columns that form the feature vector, in order; there must be `in_features` of them.",
          expect = "a non-empty list of distinct names, e.g. [a, b]",
          required = "exactly one of `input.column`, `input.columns`") List<String> columns,
      @Key(doc = "Reader options passed to Spark as strings, e.g. `{header: \"true\"}` for csv. A single option can"
          + " also be set as `input.options.<name>`.", expect = "a map of names to strings, e.g. {header: \"true\"}",
          defaultYaml = "{}") Map<String, String> options,
      @Key(doc = "Who reads an `array<float>` feature column out of Parquet files: `auto` decodes its pages in bulk"
          + " straight into the feature blocks (Spark's reader appends list values one at a time, most of a run's"
          + " time) while Spark reads the kept columns, when the input is a plain Parquet scan (no partition"
          + " columns); `spark` leaves every column to Spark's vectorized reader. Other feature types and formats are"
          + " always read by Spark. Both give the same rows, values and invalid-row handling.",
          defaultYaml = "auto") ParquetReaderKind parquetReader) implements Serializable {
    public InputConfig {
      Values.notBlank(path);
      Values.notBlank(format);
      Values.notBlank(column);
      columns = Values.names(columns, false);
      options = Values.ordered(options);
    }
  }

  /** {@code output}: where and how results are written. */
  public record OutputConfig(
      @Key(doc = "The output directory. A relative path is resolved by the job.", expect = "a non-empty string",
          required = "yes") String path,
      @Key(doc = "The file format written.", defaultYaml = "parquet") OutputFormat format,
      @Key(doc = "Name of the output column (with layout `columns`, the prefix of the output columns).",
          expect = "a non-empty string", defaultYaml = "output") String column,
      @Key(doc = "How the output vector is written: `array` (one `array<float>` column), `vector` (one Spark ML"
          + " vector column) or `columns` (one float column per output, named `<output.column>_0`,"
          + " `<output.column>_1`, ...).", defaultYaml = "array") OutputLayout layout,
      @Key(doc = "How Parquet output stores list columns (the `array` and `vector` layouts, and kept array columns):"
          + " `two-level` writes a list as one repeated field, `three-level` as the Parquet format's standard LIST"
          + " with a group per element. Spark, DuckDB and pyarrow read both back as the same list of floats (the"
          + " format's backward-compatibility rules for lists); Hive and Impala write two-level lists themselves."
          + " `three-level`, the default, is what every reader expects; in repeated benchmark runs neither layout"
          + " wrote clearly faster (64 → 16: within ±10%, either way). `two-level` is Spark's"
          + " `spark.sql.parquet.writeLegacyFormat`, which also writes kept decimal columns as fixed-length byte"
          + " arrays, as Hive does: choose it for readers that want Hive's layout. Either way, the computed columns"
          + " are written without dictionary encoding (computed floats hardly repeat).",
          defaultYaml = "three-level") ParquetLists parquetLists,
      @Key(doc = "Which writer writes Parquet output: `columnar` writes the float columns a page at a time (1.6×"
          + " faster than Spark's writer at 64 → 16 in the benchmark) and writes the files Spark's writer would (same"
          + " Parquet schema, footer metadata and statistics); `spark` is Spark's own writer. `columnar` writes kept"
          + " columns of type boolean, tinyint, smallint, int, bigint, float, double, string, binary, date and"
          + " array<float>; an output with any other kept column (timestamp, decimal, struct, map, ...), or the"
          + " `vector` layout, is written by Spark's writer, and the run summary says why.",
          defaultYaml = "columnar") ParquetWriterKind parquetWriter,
      @Key(doc = "What to do when `output.path` exists: `errorifexists` fails, `overwrite` replaces it.",
          defaultYaml = "errorifexists") OutputMode mode,
      @Key(doc = "Where `invalid-rows: quarantine` writes the invalid rows: every input column plus `reason`, in"
          + " `output.format`. Replaced on each run.", expect = "a non-empty string",
          required = "with `invalid-rows: quarantine`") String quarantinePath,
      @Key(doc = "Input columns copied to the output next to the result. `[]` keeps none.",
          expect = "a list of distinct names, e.g. [a, b]", defaultText = "all input columns except the features")
      List<String> keep) implements Serializable {
    public OutputConfig {
      Values.notBlank(path);
      Values.notBlank(column);
      Values.notBlank(quarantinePath);
      keep = Values.names(keep, true);
    }
  }

  /** {@code block}: how many rows the layer gets at a time. */
  public record BlockConfig(
      @Key(doc = "Most rows in one block handed to the layer.", expect = "a positive integer", defaultYaml = "4096")
      Integer maxRows,
      @Key(doc = "Most bytes in one block, 8 MiB by default: its features and outputs (4 bytes per float) plus the"
          + " passed-through columns. A block ends at whichever of the two limits it reaches first.",
          expect = "a positive integer", defaultYaml = "8388608") Long maxBytes) implements Serializable {
    public BlockConfig {
      Values.positive(maxRows);
      Values.positive(maxBytes);
    }
  }

  /** {@code hooks}: what runs on each block before and after the layer. */
  public record HooksConfig(
      @Key(doc = "Forward pre-hooks: run on each block of inputs before the layer, in order, each on the result of"
          + " the one before. An entry is a hook name (`relu`), a map with `type` and the hook's parameters (`{type:"
          + " clamp, min: 0, max: 6}`), or `{class: com.example.MyHook, ...}` for a hook class of your own (its"
          + " other keys are passed to it as strings). Vectors have `in_features` values here. Every hook is"
          + " described, with examples, in docs/hooks.md.", expect = Hook.EXPECT, defaultYaml = "[]") List<Hook> pre,
      @Key(doc = "Forward hooks: run on each block of outputs after the layer, in order, as `hooks.pre` does on"
          + " inputs; a class must implement `ForwardHook`. Vectors have `out_features` values here. `stats` adds"
          + " per-output statistics to the run summary.", expect = Hook.EXPECT, defaultYaml = "[]")
      List<Hook> forward,
      @Key(doc = "Hooks on one layer of `module.layers`, by its index: `hooks.layers.2.forward: [{type: clamp, max:"
          + " 6}]` runs on the outputs of `module.layers[2]`, `hooks.layers.0.pre` on the inputs of `module.layers[0]`,"
          + " each a list of hooks as `hooks.pre` and `hooks.forward` take, on vectors of that layer's width. A"
          + " `stats` hook appears in the run summary under its key, e.g. `hooks.layers.2.forward[0]`.",
          expect = "a map from layer index to its hooks, e.g. {2: {forward: [relu]}}", defaultYaml = "{}")
      Map<Integer, LayerHooks> layers) implements Serializable {
    public HooksConfig {
      pre = pre == null ? null : List.copyOf(pre);
      forward = forward == null ? null : List.copyOf(forward);
      layers = Values.ordered(layers);
    }
  }

  /** {@code hooks.layers.<index>}: the hooks of one layer, as {@code hooks.pre} and {@code hooks.forward}. */
  public record LayerHooks(List<Hook> pre, List<Hook> forward) implements Serializable {
    public LayerHooks {
      pre = pre == null ? List.of() : List.copyOf(pre);
      forward = forward == null ? List.of() : List.copyOf(forward);
    }
  }

  public JobConfig {
    spark = spark == null ? Map.of() : Values.ordered(spark);
  }

  /**
   * Reads the YAML config {@code file} and applies {@code overrides} ({@code key=value}, values read as YAML).
   *
   * @throws ConfigException listing every problem, or that the file cannot be read
   */
  public static JobConfig load(Path file, List<String> overrides) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), overrides);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), List.of("Cannot read config file " + file
          + ": no such file; check the path (a relative path is taken from the working directory)"));
    } catch (IOException e) {
      throw new ConfigException(file.toString(), List.of("Cannot read config file " + file + ": " + e));
    }
  }

  /**
   * Parses {@code yaml}, named {@code sourceName} in messages, and applies {@code overrides} as {@link #load} does.
   *
   * @throws ConfigException listing every problem
   */
  public static JobConfig parse(String yaml, String sourceName, List<String> overrides) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(sourceName, "sourceName");
    return ConfigBinder.bind(ConfigTree.read(yaml, sourceName, overrides == null ? List.of() : overrides));
  }

  /** Every {@code spark.*} key given, with its prefix (e.g. {@code spark.master}), values as strings, in order. */
  public Map<String, String> sparkConf() {
    Map<String, String> conf = new LinkedHashMap<>();
    spark.forEach((key, value) -> conf.put(ConfigKey.SPARK_PREFIX + key, value));
    return Collections.unmodifiableMap(conf);
  }

  /**
   * Every documented key with its effective value, in documentation order, then the {@code spark.*} keys: for a run
   * summary. Enums are in config spelling; an inline weight or bias shows as its shape ({@code matrix [3, 4]}), a
   * hook as its {@link Hook#summary()}; a key that is unset and has no default maps to null.
   */
  public Map<String, Object> resolved() {
    Map<String, Object> resolved = new LinkedHashMap<>();
    ConfigKey.all().forEach(key -> resolved.put(key.key(), ConfigKey.display(key.valueIn(this))));
    resolved.putAll(sparkConf());
    return Collections.unmodifiableMap(resolved);
  }
}
