package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.sparklinear.spark.ConfigEnum;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One entry of {@code hooks.pre} or {@code hooks.forward}: a built-in hook, one record per type, or a hook class of
 * the user's own. Entries are written as a name ({@code relu}) or a map with {@code type} and the hook's parameters
 * ({@code {type: clamp, min: 0, max: 6}}), or {@code {class: com.example.MyHook, ...}}. Each record checks its own
 * parameters; the hooks themselves live in {@code dev.sparklinear.core.hooks} and {@code dev.sparklinear.spark.hooks}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Hook.Standardize.class, name = "standardize"),
    @JsonSubTypes.Type(value = Hook.L2Normalize.class, name = "l2-normalize"),
    @JsonSubTypes.Type(value = Hook.Clamp.class, name = "clamp"),
    @JsonSubTypes.Type(value = Hook.Relu.class, name = "relu"),
    @JsonSubTypes.Type(value = Hook.Sigmoid.class, name = "sigmoid"),
    @JsonSubTypes.Type(value = Hook.Tanh.class, name = "tanh"),
    @JsonSubTypes.Type(value = Hook.Softmax.class, name = "softmax"),
    @JsonSubTypes.Type(value = Hook.NanGuard.class, name = "nan-guard"),
    @JsonSubTypes.Type(value = Hook.Stats.class, name = "stats")})
public sealed interface Hook extends TypedEntry {
  /** What a hook list must be, for messages and the docs. */
  String EXPECT = "a list of hooks, e.g. [relu, {type: clamp, min: 0}]";
  /** The most histogram bins a stats hook may have. */
  int MAX_BINS = 10_000;

  /** {@code (x - mean) / std} per column; each vector inline or from a 1-D {@code .npy} file. */
  record Standardize(List<Float> mean, List<Float> std, String meanPath, String stdPath) implements Hook {
    public Standardize {
      List<String> problems = new ArrayList<>();
      mean = oneOf("mean", mean, meanPath, problems);
      std = oneOf("std", std, stdPath, problems);
      for (int i = 0; std != null && i < std.size(); i++) {
        if (std.get(i) != null && std.get(i) == 0) {
          problems.add("std[" + i + "] is 0, and dividing by it gives infinities; a column with std 0 is constant:"
              + " use std 1 for it");
        }
      }
      Values.check(problems.toArray(String[]::new));
    }

    private static List<Float> oneOf(String name, List<Float> inline, String path, List<String> problems) {
      if (inline != null && path != null) {
        problems.add("both " + name + " and " + name + "-path are given; give one");
      } else if (inline == null && path == null) {
        problems.add("needs " + name + " (a list of numbers) or " + name + "-path (a .npy file)");
      } else if (path != null && path.isBlank() || inline != null && !finite(inline)) {
        problems.add("parameter '" + name + (path != null ? "-path' must be a path, got '" + path + "'"
            : "' must be a list of finite numbers, got " + inline));
      }
      return inline == null || !finite(inline) ? inline : List.copyOf(inline);
    }
  }

  /** Each row divided by its Euclidean norm, {@code x / max(||x||, eps)}. */
  record L2Normalize(Float eps) implements Hook {
    public L2Normalize {
      Values.check(eps == null || eps > 0 && Float.isFinite(eps) ? null
          : "parameter 'eps' must be a positive number, got " + eps);
    }
  }

  /** Every value limited to {@code [min, max]}; at least one bound. */
  record Clamp(Float min, Float max) implements Hook {
    public Clamp {
      Values.check(min == null && max == null ? "needs min, max or both, e.g. {type: clamp, min: 0, max: 6}" : null,
          min != null && max != null && min > max ? "min " + min + " is greater than max " + max + "; swap them"
              : null);
    }
  }

  record Relu() implements Hook {}

  record Sigmoid() implements Hook {}

  record Tanh() implements Hook {}

  record Softmax() implements Hook {}

  /** What a {@code nan-guard} does with NaN and infinities. */
  enum NanAction implements ConfigEnum { FAIL, REPLACE }

  /** NaN and infinities either fail the job, naming the row, or are replaced. */
  record NanGuard(NanAction action, Float nan, Float posinf, Float neginf) implements Hook {
    public NanGuard {
      action = action == null ? NanAction.FAIL : action;
      // Replacement values set without action: replace would be ignored, so they are a mistake.
      List<String> unused = action == NanAction.REPLACE ? List.of() : Stream.of(nan == null ? null : "nan",
          posinf == null ? null : "posinf", neginf == null ? null : "neginf").filter(Objects::nonNull).toList();
      Values.check(unused.isEmpty() ? null : String.join(", ", unused) + (unused.size() == 1 ? " is" : " are")
          + " only used with action: replace; remove " + (unused.size() == 1 ? "it" : "them")
          + ", or set action: replace");
    }

    @Override
    public boolean rejectsNonFinite() {
      return action == NanAction.FAIL;
    }
  }

  /** Count, mean, min, max, NaN count and a histogram of each output over the whole job; forward hooks only. */
  record Stats(Integer bins, Float min, Float max) implements Hook {
    public Stats {
      bins = bins == null ? 20 : bins;
      min = min == null ? -10f : min;
      max = max == null ? 10f : max;
      Values.check(bins < 1 || bins > MAX_BINS ? "parameter 'bins' must be an integer from 1 to " + MAX_BINS
          + ", got " + bins : null,
          min < max ? null : "the histogram's min " + min + " must be less than its max " + max);
    }
  }

  /** A hook class of the user's own, loaded where the hooks run; it gets its parameters as strings. */
  record UserClass(String className, Map<String, String> params) implements Hook {
    public UserClass {
      params = Values.ordered(params);
    }

    @Override
    public String summary() {
      return "class " + className + (params.isEmpty() ? "" : params.entrySet().stream()
          .map(param -> param.getKey() + ": " + param.getValue()).collect(Collectors.joining(", ", " {", "}")));
    }
  }

  /** Whether this hook fails the job on NaN or infinity, so that such rows count as invalid rows. */
  default boolean rejectsNonFinite() {
    return false;
  }

  private static boolean finite(List<Float> values) {
    return !values.isEmpty() && values.stream().allMatch(v -> v != null && Float.isFinite(v));
  }
}
