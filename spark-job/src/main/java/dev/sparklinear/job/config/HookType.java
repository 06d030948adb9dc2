package dev.sparklinear.job.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The built-in hooks a config can name in {@code hooks.pre} and {@code hooks.forward}, with their parameters. The
 * hooks themselves live in {@code dev.sparklinear.core.hooks} (and {@code dev.sparklinear.spark.hooks} for
 * {@code stats}); this is what the config accepts and documents.
 */
public enum HookType {
  STANDARDIZE("standardize", "`(x - mean) / std` per column",
      param("mean", ParamType.VECTOR, "the mean of each column, one number per column"),
      param("std", ParamType.VECTOR, "the standard deviation of each column, none 0"),
      param("mean-path", ParamType.PATH, "instead of `mean`: a 1-D `.npy` file holding it"),
      param("std-path", ParamType.PATH, "instead of `std`: a 1-D `.npy` file holding it")),
  L2_NORMALIZE("l2-normalize", "each row divided by its Euclidean norm, `x / max(||x||, eps)`",
      param("eps", ParamType.POSITIVE_NUMBER, "the smallest norm divided by, default `1e-12`")),
  CLAMP("clamp", "every value limited to `[min, max]`",
      param("min", ParamType.NUMBER, "the lower bound (optional)"),
      param("max", ParamType.NUMBER, "the upper bound (optional; give at least one)")),
  RELU("relu", "`max(0, x)`"),
  SIGMOID("sigmoid", "`1 / (1 + exp(-x))`"),
  TANH("tanh", "`tanh(x)`"),
  SOFTMAX("softmax", "softmax over each row, numerically stable"),
  NAN_GUARD("nan-guard", "NaN and infinities either fail the job, naming the row, or are replaced",
      param("action", ParamType.ACTION, "`fail` (default) or `replace`"),
      param("nan", ParamType.NUMBER, "with `replace`: what NaN becomes, default `0`"),
      param("posinf", ParamType.NUMBER, "with `replace`: what +inf becomes, default the largest float"),
      param("neginf", ParamType.NUMBER, "with `replace`: what -inf becomes, default the most negative float")),
  STATS("stats", "in `hooks.forward` only: count, mean, min, max, NaN count and a histogram of each output,"
      + " over the whole job, written to the run summary",
      param("bins", ParamType.BINS, "histogram bins, default `20`"),
      param("min", ParamType.NUMBER, "lower edge of the histogram, default `-10`"),
      param("max", ParamType.NUMBER, "upper edge of the histogram, default `10`"));

  /** The most histogram bins a stats hook may have. */
  public static final int MAX_BINS = 10_000;

  /** What a parameter takes. */
  enum ParamType {
    NUMBER("a number"),
    POSITIVE_NUMBER("a positive number"),
    VECTOR("a list of numbers, e.g. [0.5, 1.5]"),
    PATH("a path"),
    ACTION("fail or replace"),
    BINS("an integer from 1 to " + MAX_BINS);

    final String expectation;

    ParamType(String expectation) {
      this.expectation = expectation;
    }
  }

  record Param(String name, ParamType type, String description) {}

  private final String configName;
  private final String description;
  private final Map<String, Param> params;

  HookType(String configName, String description, Param... params) {
    this.configName = configName;
    this.description = description;
    this.params = new LinkedHashMap<>();
    for (Param p : params) {
      this.params.put(p.name(), p);
    }
  }

  private static Param param(String name, ParamType type, String description) {
    return new Param(name, type, description);
  }

  /** The name used in config files, e.g. {@code l2-normalize}. */
  public String configName() {
    return configName;
  }

  public String description() {
    return description;
  }

  /** The parameter names, in documentation order. */
  public List<String> paramNames() {
    return List.copyOf(params.keySet());
  }

  Map<String, Param> params() {
    return params;
  }

  public static Optional<HookType> byName(String name) {
    return Arrays.stream(values()).filter(t -> t.configName.equals(name)).findFirst();
  }

  public static List<String> names() {
    return Arrays.stream(values()).map(HookType::configName).toList();
  }

  /** One line per hook type for the key descriptions in {@code docs/config.md}. */
  static String summary() {
    return Arrays.stream(values()).map(t -> "`" + t.configName + "`"
            + (t.params.isEmpty() ? "" : " (" + t.params.values().stream().map(p -> "`" + p.name() + "`")
            .collect(Collectors.joining(", ")) + ")"))
        .collect(Collectors.joining(", "));
  }
}
