package dev.sparklinear.job.config;

import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.spark.OutputLayout;
import dev.sparklinear.spark.ParquetOutput.ParquetLists;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every key of the job config, with its type, default and meaning: the one place they are documented.
 * {@code docs/config.md} is generated from this list by {@link ConfigDocs}; a test fails when the two differ.
 *
 * <p>Keys are kebab-case with dots for hierarchy. Besides these, any key under {@code spark.} is passed to the Spark
 * session as it is (see {@link #SPARK_PREFIX}), and any key under {@code input.options.} is one reader option.
 */
public enum ConfigKey {
  MODULE_IN_FEATURES("module.in-features", Type.POSITIVE_INT, Requirement.REQUIRED,
      "Length of each input feature vector (PyTorch `in_features`)."),
  MODULE_OUT_FEATURES("module.out-features", Type.POSITIVE_INT, Requirement.REQUIRED,
      "Length of each output vector (PyTorch `out_features`)."),
  MODULE_BIAS("module.bias", Type.BOOLEAN, true,
      "Whether the layer adds a bias: `y = x W^T + b`. With `false` the layer has no bias parameter at all."),
  MODULE_INIT_SEED("module.init-seed", Type.INTEGER, null, null, "a fresh seed", Requirement.OPTIONAL, null,
      "Seed of the PyTorch-style random initialisation (Kaiming-uniform weight, uniform bias), used when no weights"
          + " are given: the same seed gives the same parameters. Ignored when weights are given."),
  MODULE_WEIGHTS_FORMAT("module.weights.format", Type.ENUM, WeightsFormat.class, WeightsFormat.INLINE,
      "Where the parameters come from: `inline` in this file, or a `safetensors` or `npy` file. With `inline` and"
          + " no `module.weights.weight` the layer is randomly initialised from `module.init-seed`."),
  MODULE_WEIGHTS_WEIGHT("module.weights.weight", Type.FLOAT_MATRIX, null, null, "none", Requirement.OPTIONAL, null,
      "The weight matrix, shape `[out_features, in_features]` (one row per output), e.g. `[[1, 2], [3, 4]]`."
          + " Only with format `inline`."),
  MODULE_WEIGHTS_BIAS("module.weights.bias", Type.FLOAT_VECTOR, null, null, "none", Requirement.CONDITIONAL,
      "with an inline weight, when `module.bias` is true",
      "The bias vector, shape `[out_features]`. Only with format `inline`; not allowed when `module.bias` is false."),
  MODULE_WEIGHTS_PATH("module.weights.path", Type.NON_EMPTY_STRING, null, null, "none", Requirement.CONDITIONAL,
      "with format `safetensors` or `npy`",
      "The safetensors file, or the `.npy` file of the weight. A relative path is resolved by the job."),
  MODULE_WEIGHTS_BIAS_PATH("module.weights.bias-path", Type.NON_EMPTY_STRING, null, null, "none",
      Requirement.CONDITIONAL, "with format `npy`, when `module.bias` is true",
      "The `.npy` file of the bias. Only with format `npy`."),
  MODULE_WEIGHTS_PREFIX("module.weights.prefix", Type.STRING, "",
      "State-dict key prefix inside a safetensors file: with `fc.` the tensors `fc.weight` and `fc.bias` are read."
          + " Only with format `safetensors`."),
  INPUT_PATH("input.path", Type.NON_EMPTY_STRING, Requirement.REQUIRED,
      "The input file or directory (a local path or a Hadoop URI). A relative path is resolved by the job."),
  INPUT_FORMAT("input.format", Type.NON_EMPTY_STRING, "parquet",
      "Any Spark file source to read with: `parquet`, `json`, `csv`, `orc`, ..."),
  INPUT_COLUMN("input.column", Type.NON_EMPTY_STRING, null, null, "none", Requirement.CONDITIONAL,
      "exactly one of `input.column`, `input.columns`",
      "The column holding each row's feature vector (an array of numbers or a Spark ML vector) of length"
          + " `in_features`."),
  INPUT_COLUMNS("input.columns", Type.STRING_LIST, null, null, "none", Requirement.CONDITIONAL,
      "exactly one of `input.column`, `input.columns`",
      "Numeric scalar columns that form the feature vector, in order; there must be `in_features` of them."),
  INPUT_OPTIONS("input.options", Type.STRING_MAP, Map.of(),
      "Reader options passed to Spark as strings, e.g. `{header: \"true\"}` for csv. A single option can also be"
          + " set as `input.options.<name>`."),
  OUTPUT_PATH("output.path", Type.NON_EMPTY_STRING, Requirement.REQUIRED,
      "The output directory. A relative path is resolved by the job."),
  OUTPUT_FORMAT("output.format", Type.ENUM, OutputFormat.class, OutputFormat.PARQUET,
      "The file format written."),
  OUTPUT_COLUMN("output.column", Type.NON_EMPTY_STRING, "output",
      "Name of the output column (with layout `columns`, the prefix of the output columns)."),
  OUTPUT_LAYOUT("output.layout", Type.ENUM, OutputLayout.class, OutputLayout.ARRAY,
      "How the output vector is written: `array` (one `array<float>` column), `vector` (one Spark ML vector column)"
          + " or `columns` (one float column per output, named `<output.column>_0`, `<output.column>_1`, ...)."),
  OUTPUT_PARQUET_LISTS("output.parquet-lists", Type.ENUM, ParquetLists.class, ParquetLists.TWO_LEVEL,
      "How Parquet output stores list columns (the `array` and `vector` layouts, and kept array columns):"
          + " `two-level` writes a list as one repeated field, `three-level` as the Parquet format's standard LIST"
          + " with a group per element. Spark, DuckDB and pyarrow read both back as the same list of floats (the"
          + " format's backward-compatibility rules for lists); Hive and Impala write two-level lists themselves."
          + " `two-level` made the benchmark job 1.15–1.27× faster (64 → 16, 1024 → 1024); it is Spark's"
          + " `spark.sql.parquet.writeLegacyFormat`, which also writes kept decimal columns as fixed-length byte"
          + " arrays, as Hive does. Choose `three-level` for readers that accept only the standard layout. Either"
          + " way, the computed columns are written without dictionary encoding (computed floats hardly repeat)."),
  OUTPUT_PARQUET_WRITER("output.parquet-writer", Type.ENUM, ParquetWriterKind.class, ParquetWriterKind.COLUMNAR,
      "Which writer writes Parquet output: `columnar` writes the float columns a page at a time (1.6× faster than"
          + " Spark's writer at 64 → 16 in the benchmark) and writes the files Spark's writer would (same Parquet"
          + " schema, footer metadata and statistics); `spark` is Spark's own writer. `columnar` writes kept columns"
          + " of type boolean, tinyint, smallint, int, bigint, float, double, string, binary, date and"
          + " array<float>; an output with any other kept column (timestamp, decimal, struct, map, ...), or the"
          + " `vector` layout, is written by Spark's writer, and the run summary says why."),
  OUTPUT_MODE("output.mode", Type.ENUM, OutputMode.class, OutputMode.ERRORIFEXISTS,
      "What to do when `output.path` exists: `errorifexists` fails, `overwrite` replaces it."),
  OUTPUT_QUARANTINE_PATH("output.quarantine-path", Type.NON_EMPTY_STRING, null, null, "none",
      Requirement.CONDITIONAL, "with `invalid-rows: quarantine`",
      "Where `invalid-rows: quarantine` writes the invalid rows: every input column plus `reason`, in"
          + " `output.format`. Replaced on each run."),
  OUTPUT_KEEP("output.keep", Type.STRING_LIST, null, null, "all input columns except the features",
      Requirement.OPTIONAL, null,
      "Input columns copied to the output next to the result. `[]` keeps none."),
  BLOCK_MAX_ROWS("block.max-rows", Type.POSITIVE_INT, 4096,
      "Most rows in one block handed to the layer."),
  BLOCK_MAX_BYTES("block.max-bytes", Type.POSITIVE_LONG, 8L * 1024 * 1024,
      "Most bytes in one block, 8 MiB by default: its features and outputs (4 bytes per float) plus the"
          + " passed-through columns. A block ends at whichever of the two limits it reaches first."),
  HOOKS_PRE("hooks.pre", Type.HOOK_LIST, List.of(),
      "Forward pre-hooks: run on each block of inputs before the layer, in order, each on the result of the one"
          + " before. An entry is a hook name (`relu`), a map with `type` and the hook's parameters"
          + " (`{type: clamp, min: 0, max: 6}`), or `{class: com.example.MyHook, ...}` for a hook class of your own"
          + " (its other keys are passed to it as strings). Types and their parameters: " + HookType.summary()
          + ". Vectors have `in_features` values here. Every hook is described, with examples, in docs/hooks.md."),
  HOOKS_FORWARD("hooks.forward", Type.HOOK_LIST, List.of(),
      "Forward hooks: run on each block of outputs after the layer, in order, as `hooks.pre` does on inputs;"
          + " a class must implement `ForwardHook`. Vectors have `out_features` values here. `stats` adds"
          + " per-output statistics to the run summary."),
  INVALID_ROWS("invalid-rows", Type.ENUM, InvalidRowPolicy.class, InvalidRowPolicy.ERROR,
      "What to do with a row whose features are null, hold a null, have the wrong width, or (with a `nan-guard`"
          + " pre-hook whose action is `fail`) hold NaN or infinity: `error` fails the job naming the row, `skip`"
          + " drops and counts it, `null` writes a null output, `quarantine` writes it with a `reason` column to"
          + " `output.quarantine-path`. The run summary counts each by reason: rows in = rows out + skipped +"
          + " quarantined.");

  /** Keys under this prefix are free-form Spark settings, kept as strings with the prefix. */
  public static final String SPARK_PREFIX = "spark.";

  /** The kind of value a key takes, with the wording used in the docs and in error messages. */
  public enum Type {
    POSITIVE_INT("positive integer"),
    POSITIVE_LONG("positive integer"),
    INTEGER("integer"),
    BOOLEAN("boolean"),
    STRING("string"),
    NON_EMPTY_STRING("non-empty string"),
    STRING_LIST("list of strings"),
    STRING_MAP("map of strings"),
    FLOAT_VECTOR("list of numbers"),
    FLOAT_MATRIX("list of lists of numbers"),
    HOOK_LIST("list of hooks"),
    ENUM("one of the listed values");

    private final String description;

    Type(String description) {
      this.description = description;
    }

    public String description() {
      return description;
    }
  }

  /** Whether a key must be given. */
  public enum Requirement {
    REQUIRED,
    OPTIONAL,
    /** Required or allowed only together with other keys; {@link #requirementText()} says when. */
    CONDITIONAL
  }

  private static final Map<String, ConfigKey> BY_NAME = Collections.unmodifiableMap(
      Arrays.stream(values()).collect(Collectors.toMap(
          ConfigKey::key, key -> key, (a, b) -> a, LinkedHashMap::new)));

  private final String key;
  private final Type type;
  private final List<String> allowedValues;
  private final Class<? extends Enum<?>> enumType;
  private final Object defaultValue;
  private final String defaultText;
  private final Requirement requirement;
  private final String requirementText;
  private final String description;

  /** A key without a default. */
  ConfigKey(String key, Type type, Requirement requirement, String description) {
    this(key, type, null, null, "none", requirement, null, description);
  }

  /** An optional key with a default. */
  ConfigKey(String key, Type type, Object defaultValue, String description) {
    this(key, type, null, defaultValue, null, Requirement.OPTIONAL, null, description);
  }

  /** An optional key taking the values of an enum, with a default. */
  ConfigKey(String key, Type type, Class<? extends Enum<?>> enumType, Enum<?> defaultValue, String description) {
    this(key, type, enumType, defaultValue, null, Requirement.OPTIONAL, null, description);
  }

  ConfigKey(String key, Type type, Class<? extends Enum<?>> enumType, Object defaultValue, String defaultText,
      Requirement requirement, String requirementText, String description) {
    this.key = key;
    this.type = type;
    this.enumType = enumType;
    this.allowedValues = enumType == null ? List.of() : Arrays.stream(enumType.getEnumConstants())
        .map(constant -> configSpelling(constant)).collect(Collectors.toUnmodifiableList());
    this.defaultValue = defaultValue;
    this.defaultText = defaultText != null ? defaultText : describeDefault(defaultValue);
    this.requirement = requirement;
    this.requirementText = requirementText != null ? requirementText
        : requirement == Requirement.REQUIRED ? "yes" : "no";
    this.description = description;
  }

  /** An enum constant as config files spell it: lower case, words joined by hyphens ({@code TWO_LEVEL}: two-level). */
  static String configSpelling(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static String describeDefault(Object value) {
    if (value instanceof Enum<?>) {
      return configSpelling((Enum<?>) value);
    }
    if (value instanceof String && ((String) value).isEmpty()) {
      return "\"\"";
    }
    if (value instanceof Map<?, ?> && ((Map<?, ?>) value).isEmpty()) {
      return "{}";
    }
    if (value instanceof List<?> && ((List<?>) value).isEmpty()) {
      return "[]";
    }
    return String.valueOf(value);
  }

  /** The dotted key as written in config files, e.g. {@code block.max-rows}. */
  public String key() {
    return key;
  }

  public Type type() {
    return type;
  }

  /** For {@link Type#ENUM} keys, the accepted values in config spelling; otherwise empty. */
  public List<String> allowedValues() {
    return allowedValues;
  }

  /** For {@link Type#ENUM} keys, the Java enum of the values; otherwise null. */
  Class<? extends Enum<?>> enumType() {
    return enumType;
  }

  /** The value used when the key is not given, as {@link JobConfig} holds it; empty when there is none. */
  public Optional<Object> defaultValue() {
    return Optional.ofNullable(defaultValue);
  }

  /** The default as the docs show it. */
  public String defaultText() {
    return defaultText;
  }

  public Requirement requirement() {
    return requirement;
  }

  /** {@code yes}, {@code no}, or when the key is required. */
  public String requirementText() {
    return requirementText;
  }

  public String description() {
    return description;
  }

  /** The type as the docs and error messages word it; for enums, the allowed values. */
  public String typeText() {
    if (type == Type.ENUM) {
      return "one of " + allowedValues.stream().map(v -> "`" + v + "`").collect(Collectors.joining(", "));
    }
    return type.description();
  }

  /** The documented key with this dotted name, if there is one. */
  public static Optional<ConfigKey> byKey(String key) {
    return Optional.ofNullable(BY_NAME.get(key));
  }

  /** Every documented dotted key, in documentation order. */
  public static List<String> keys() {
    return List.copyOf(BY_NAME.keySet());
  }
}
