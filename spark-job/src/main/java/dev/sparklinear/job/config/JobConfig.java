package dev.sparklinear.job.config;

import static dev.sparklinear.job.config.ConfigKey.BLOCK_MAX_BYTES;
import static dev.sparklinear.job.config.ConfigKey.BLOCK_MAX_ROWS;
import static dev.sparklinear.job.config.ConfigKey.HOOKS_FORWARD;
import static dev.sparklinear.job.config.ConfigKey.HOOKS_PRE;
import static dev.sparklinear.job.config.ConfigKey.INPUT_COLUMN;
import static dev.sparklinear.job.config.ConfigKey.INPUT_COLUMNS;
import static dev.sparklinear.job.config.ConfigKey.INPUT_FORMAT;
import static dev.sparklinear.job.config.ConfigKey.INPUT_OPTIONS;
import static dev.sparklinear.job.config.ConfigKey.INPUT_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_BIAS;
import static dev.sparklinear.job.config.ConfigKey.MODULE_INIT_SEED;
import static dev.sparklinear.job.config.ConfigKey.MODULE_IN_FEATURES;
import static dev.sparklinear.job.config.ConfigKey.MODULE_OUT_FEATURES;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_BIAS;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_BIAS_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_FORMAT;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_PATH;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_PREFIX;
import static dev.sparklinear.job.config.ConfigKey.MODULE_WEIGHTS_WEIGHT;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_COLUMN;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_FORMAT;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_KEEP;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_LAYOUT;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_PARQUET_LISTS;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_PARQUET_WRITER;
import static dev.sparklinear.job.config.ConfigKey.INVALID_ROWS;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_MODE;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_QUARANTINE_PATH;
import static dev.sparklinear.job.config.ConfigKey.OUTPUT_PATH;

import dev.sparklinear.spark.InvalidRowPolicy;
import dev.sparklinear.spark.OutputLayout;
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
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The settings of one job run: the layer, where rows come from and go to, how rows are blocked, and Spark settings.
 * Immutable and {@link Serializable}, so it can be shipped to executors.
 *
 * <p>Built from, in order of precedence: {@code --set key=value} overrides, then the YAML config file, then the
 * defaults documented in {@link ConfigKey} (and in {@code docs/config.md}). Keys may be nested or dotted:
 *
 * <pre>{@code
 * JobConfig config = JobConfig.load(Path.of("conf/seed-example.yaml"), List.of("block.max-rows=1024"));
 * config.inFeatures();   // 4
 * config.blockMaxRows(); // 1024
 * }</pre>
 *
 * <p>Every problem in the file and the overrides (an unknown key, a value of the wrong type, a missing key, a weight
 * matrix of the wrong shape, ...) is reported together in one {@link ConfigException}. Relative paths are kept as
 * written; the job resolves them.
 */
public final class JobConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final int inFeatures;
  private final int outFeatures;
  private final boolean bias;
  private final Long initSeed;
  private final WeightsFormat weightsFormat;
  private final float[][] inlineWeight;
  private final float[] inlineBias;
  private final String weightsPath;
  private final String biasPath;
  private final String weightsPrefix;
  private final String inputPath;
  private final String inputFormat;
  private final String inputColumn;
  private final List<String> inputColumns;
  private final Map<String, String> inputOptions;
  private final String outputPath;
  private final OutputFormat outputFormat;
  private final String outputColumn;
  private final OutputLayout outputLayout;
  private final ParquetLists parquetLists;
  private final ParquetWriterKind parquetWriter;
  private final OutputMode outputMode;
  private final InvalidRowPolicy invalidRows;
  private final String quarantinePath;
  private final List<String> outputKeep;
  private final int blockMaxRows;
  private final long blockMaxBytes;
  private final List<HookSpec> preHooks;
  private final List<HookSpec> forwardHooks;
  private final Map<String, String> sparkConf;

  /** From values already checked by {@link ConfigBinder}: defaults applied, optional keys absent when unset. */
  @SuppressWarnings("unchecked")
  JobConfig(String source, Map<ConfigKey, Object> values, Map<String, String> inputOptions,
      Map<String, String> sparkConf) {
    this.source = source;
    this.inFeatures = (Integer) values.get(MODULE_IN_FEATURES);
    this.outFeatures = (Integer) values.get(MODULE_OUT_FEATURES);
    this.bias = (Boolean) values.get(MODULE_BIAS);
    this.initSeed = (Long) values.get(MODULE_INIT_SEED);
    this.weightsFormat = (WeightsFormat) values.get(MODULE_WEIGHTS_FORMAT);
    this.inlineWeight = (float[][]) values.get(MODULE_WEIGHTS_WEIGHT);
    this.inlineBias = (float[]) values.get(MODULE_WEIGHTS_BIAS);
    this.weightsPath = (String) values.get(MODULE_WEIGHTS_PATH);
    this.biasPath = (String) values.get(MODULE_WEIGHTS_BIAS_PATH);
    this.weightsPrefix = (String) values.get(MODULE_WEIGHTS_PREFIX);
    this.inputPath = (String) values.get(INPUT_PATH);
    this.inputFormat = (String) values.get(INPUT_FORMAT);
    this.inputColumn = (String) values.get(INPUT_COLUMN);
    List<String> columns = (List<String>) values.get(INPUT_COLUMNS);
    this.inputColumns = columns == null ? List.of() : List.copyOf(columns);
    this.inputOptions = Collections.unmodifiableMap(new LinkedHashMap<>(inputOptions));
    this.outputPath = (String) values.get(OUTPUT_PATH);
    this.outputFormat = (OutputFormat) values.get(OUTPUT_FORMAT);
    this.outputColumn = (String) values.get(OUTPUT_COLUMN);
    this.outputLayout = (OutputLayout) values.get(OUTPUT_LAYOUT);
    this.parquetLists = (ParquetLists) values.get(OUTPUT_PARQUET_LISTS);
    this.parquetWriter = (ParquetWriterKind) values.get(OUTPUT_PARQUET_WRITER);
    this.outputMode = (OutputMode) values.get(OUTPUT_MODE);
    this.invalidRows = (InvalidRowPolicy) values.get(INVALID_ROWS);
    this.quarantinePath = (String) values.get(OUTPUT_QUARANTINE_PATH);
    List<String> keep = (List<String>) values.get(OUTPUT_KEEP);
    this.outputKeep = keep == null ? null : List.copyOf(keep);
    this.blockMaxRows = (Integer) values.get(BLOCK_MAX_ROWS);
    this.blockMaxBytes = (Long) values.get(BLOCK_MAX_BYTES);
    this.preHooks = List.copyOf((List<HookSpec>) values.get(HOOKS_PRE));
    this.forwardHooks = List.copyOf((List<HookSpec>) values.get(HOOKS_FORWARD));
    this.sparkConf = Collections.unmodifiableMap(new LinkedHashMap<>(sparkConf));
  }

  /**
   * Reads the YAML config {@code file} and applies {@code overrides} ({@code key=value}, values read as YAML).
   *
   * @throws ConfigException listing every problem, or that the file cannot be read
   */
  public static JobConfig load(Path file, List<String> overrides) {
    String yaml;
    try {
      yaml = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), List.of("Cannot read config file " + file
          + ": no such file; check the path (a relative path is taken from the working directory)"));
    } catch (IOException e) {
      throw new ConfigException(file.toString(), List.of("Cannot read config file " + file + ": " + e));
    }
    return parse(yaml, file.toString(), overrides);
  }

  /**
   * Parses {@code yaml}, named {@code sourceName} in messages, and applies {@code overrides} as {@link #load} does.
   *
   * @throws ConfigException listing every problem
   */
  public static JobConfig parse(String yaml, String sourceName, List<String> overrides) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(sourceName, "sourceName");
    List<String> problems = new ArrayList<>();
    RawConfig raw = RawConfig.fromYaml(yaml, sourceName, problems);
    if (raw == null) {
      throw new ConfigException(sourceName, problems);
    }
    raw.applyOverrides(overrides == null ? List.of() : overrides);
    return ConfigBinder.bind(raw, problems);
  }

  /** The config file name as given to {@link #load}, or the name given to {@link #parse}. */
  public String source() {
    return source;
  }

  public int inFeatures() {
    return inFeatures;
  }

  public int outFeatures() {
    return outFeatures;
  }

  /** Whether the layer has a bias parameter. */
  public boolean bias() {
    return bias;
  }

  /** The initialisation seed; empty when none was given (the job then takes a fresh one). */
  public OptionalLong initSeed() {
    return initSeed == null ? OptionalLong.empty() : OptionalLong.of(initSeed);
  }

  public WeightsFormat weightsFormat() {
    return weightsFormat;
  }

  /** The inline weight {@code [out_features, in_features]}, a fresh copy; empty when not given. */
  public Optional<float[][]> inlineWeight() {
    if (inlineWeight == null) {
      return Optional.empty();
    }
    float[][] copy = new float[inlineWeight.length][];
    for (int r = 0; r < copy.length; r++) {
      copy[r] = inlineWeight[r].clone();
    }
    return Optional.of(copy);
  }

  /** The inline bias {@code [out_features]}, a fresh copy; empty when not given. */
  public Optional<float[]> inlineBias() {
    return Optional.ofNullable(inlineBias).map(float[]::clone);
  }

  /** The safetensors file, or the npy file of the weight, as written. */
  public Optional<String> weightsPath() {
    return Optional.ofNullable(weightsPath);
  }

  /** The npy file of the bias, as written. */
  public Optional<String> biasPath() {
    return Optional.ofNullable(biasPath);
  }

  /** The state-dict key prefix inside a safetensors file; empty string by default. */
  public String weightsPrefix() {
    return weightsPrefix;
  }

  public String inputPath() {
    return inputPath;
  }

  /** The Spark source name to read with, e.g. {@code parquet}. */
  public String inputFormat() {
    return inputFormat;
  }

  /** The feature vector column; empty when the features are {@link #inputColumns()}. */
  public Optional<String> inputColumn() {
    return Optional.ofNullable(inputColumn);
  }

  /** The scalar feature columns in order; empty when the features are one {@link #inputColumn()}. */
  public List<String> inputColumns() {
    return inputColumns;
  }

  /** Reader options, in the order given. */
  public Map<String, String> inputOptions() {
    return inputOptions;
  }

  public String outputPath() {
    return outputPath;
  }

  public OutputFormat outputFormat() {
    return outputFormat;
  }

  public String outputColumn() {
    return outputColumn;
  }

  public OutputLayout outputLayout() {
    return outputLayout;
  }

  /** How Parquet output stores list columns ({@code output.parquet-lists}). */
  public ParquetLists parquetLists() {
    return parquetLists;
  }

  /** Which writer writes Parquet output ({@code output.parquet-writer}). */
  public ParquetWriterKind parquetWriter() {
    return parquetWriter;
  }

  public OutputMode outputMode() {
    return outputMode;
  }

  /** What to do with rows the module cannot take ({@code invalid-rows}). */
  public InvalidRowPolicy invalidRows() {
    return invalidRows;
  }

  /** Where quarantined rows go ({@code output.quarantine-path}); set exactly when invalid-rows is quarantine. */
  public Optional<String> quarantinePath() {
    return Optional.ofNullable(quarantinePath);
  }

  /**
   * The input columns to copy to the output; empty when not given, meaning every input column except the features.
   * A present empty list keeps none.
   */
  public Optional<List<String>> outputKeep() {
    return Optional.ofNullable(outputKeep);
  }

  public int blockMaxRows() {
    return blockMaxRows;
  }

  public long blockMaxBytes() {
    return blockMaxBytes;
  }

  /** The forward pre-hooks, in the order they run: on the inputs, before the layer. */
  public List<HookSpec> preHooks() {
    return preHooks;
  }

  /** The forward hooks, in the order they run: on the outputs, after the layer. */
  public List<HookSpec> forwardHooks() {
    return forwardHooks;
  }

  /** Every {@code spark.*} key given, with its prefix (e.g. {@code spark.master}), values as strings, in order. */
  public Map<String, String> sparkConf() {
    return sparkConf;
  }

  /**
   * Every documented key with its effective value, in documentation order, then the {@code spark.*} keys: for a run
   * summary. Enums are in config spelling; an inline weight or bias shows as its shape ({@code matrix [3, 4]}); a key
   * that is unset and has no default maps to null.
   */
  public Map<String, Object> resolved() {
    Map<String, Object> resolved = new LinkedHashMap<>();
    resolved.put(MODULE_IN_FEATURES.key(), inFeatures);
    resolved.put(MODULE_OUT_FEATURES.key(), outFeatures);
    resolved.put(MODULE_BIAS.key(), bias);
    resolved.put(MODULE_INIT_SEED.key(), initSeed);
    resolved.put(MODULE_WEIGHTS_FORMAT.key(), weightsFormat.configValue());
    resolved.put(MODULE_WEIGHTS_WEIGHT.key(),
        inlineWeight == null ? null : "matrix [" + inlineWeight.length + ", " + inlineWeight[0].length + "]");
    resolved.put(MODULE_WEIGHTS_BIAS.key(), inlineBias == null ? null : "vector [" + inlineBias.length + "]");
    resolved.put(MODULE_WEIGHTS_PATH.key(), weightsPath);
    resolved.put(MODULE_WEIGHTS_BIAS_PATH.key(), biasPath);
    resolved.put(MODULE_WEIGHTS_PREFIX.key(), weightsPrefix);
    resolved.put(INPUT_PATH.key(), inputPath);
    resolved.put(INPUT_FORMAT.key(), inputFormat);
    resolved.put(INPUT_COLUMN.key(), inputColumn);
    resolved.put(INPUT_COLUMNS.key(), inputColumns.isEmpty() ? null : inputColumns);
    resolved.put(INPUT_OPTIONS.key(), inputOptions);
    resolved.put(OUTPUT_PATH.key(), outputPath);
    resolved.put(OUTPUT_FORMAT.key(), outputFormat.configValue());
    resolved.put(OUTPUT_COLUMN.key(), outputColumn);
    resolved.put(OUTPUT_LAYOUT.key(), outputLayout.configValue());
    resolved.put(OUTPUT_PARQUET_LISTS.key(), parquetLists.configValue());
    resolved.put(OUTPUT_PARQUET_WRITER.key(), parquetWriter.configValue());
    resolved.put(OUTPUT_MODE.key(), outputMode.configValue());
    resolved.put(OUTPUT_QUARANTINE_PATH.key(), quarantinePath);
    resolved.put(OUTPUT_KEEP.key(), outputKeep);
    resolved.put(BLOCK_MAX_ROWS.key(), blockMaxRows);
    resolved.put(BLOCK_MAX_BYTES.key(), blockMaxBytes);
    resolved.put(HOOKS_PRE.key(), preHooks.stream().map(HookSpec::summary).toList());
    resolved.put(HOOKS_FORWARD.key(), forwardHooks.stream().map(HookSpec::summary).toList());
    resolved.put(INVALID_ROWS.key(), invalidRows.configValue());
    resolved.putAll(sparkConf);
    return Collections.unmodifiableMap(resolved);
  }

  @Override
  public boolean equals(Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof JobConfig)) {
      return false;
    }
    JobConfig that = (JobConfig) other;
    return source.equals(that.source)
        && resolved().equals(that.resolved())
        && preHooks.equals(that.preHooks)
        && forwardHooks.equals(that.forwardHooks)
        && Arrays.deepEquals(inlineWeight, that.inlineWeight)
        && Arrays.equals(inlineBias, that.inlineBias);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, resolved(), preHooks, forwardHooks, Arrays.deepHashCode(inlineWeight),
        Arrays.hashCode(inlineBias));
  }

  @Override
  public String toString() {
    return "JobConfig(" + source + ") " + resolved();
  }
}
