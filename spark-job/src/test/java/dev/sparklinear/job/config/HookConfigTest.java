package dev.sparklinear.job.config;

import dev.sparklinear.testing.RepositoryRoot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code hooks.pre} and {@code hooks.forward}: the accepted spellings and every error message. */
class HookConfigTest {
  private static final String SOURCE = "conf/h.yaml";

  /** A 4 -> 3 layer and the given hooks section. */
  private static String config(String hooks) {
    return """
        module: {in-features: 4, out-features: 3}
        input: {path: in.parquet, column: features}
        output: {path: out/h}
        """ + hooks;
  }

  private static JobConfig parse(String hooks, String... overrides) {
    return JobConfig.parse(config(hooks), SOURCE, List.of(overrides));
  }

  private static List<String> problems(String hooks) {
    return catchThrowableOfType(ConfigException.class, () -> parse(hooks)).problems();
  }

  @Test
  void noHooksByDefault() {
    JobConfig config = parse("");
    assertThat(config.hooks().pre()).isEmpty();
    assertThat(config.hooks().forward()).isEmpty();
    assertThat(config.resolved()).containsEntry("hooks.pre", List.of()).containsEntry("hooks.forward", List.of());
  }

  @Test
  void readsNamesMapsAndClassesInOrder() {
    JobConfig config = parse("""
        hooks:
          pre:
            - {type: standardize, mean: [0, 1, 2, 3], std: [1, 2, 3, 4]}
            - {type: nan-guard, action: replace, nan: -1}
          forward:
            - relu
            - {type: clamp, max: 6}
            - {type: stats, bins: 4, min: 0, max: 8}
            - {class: com.example.MyHook, factor: 2, label: x}
        """);
    assertThat(config.hooks().pre()).containsExactly(
        new Hook.Standardize(List.of(0f, 1f, 2f, 3f), List.of(1f, 2f, 3f, 4f), null, null),
        new Hook.NanGuard(Hook.NanAction.REPLACE, -1f, null, null));
    assertThat(config.hooks().forward()).containsExactly(
        new Hook.Relu(),
        new Hook.Clamp(null, 6f),
        new Hook.Stats(4, 0f, 8f),
        new Hook.UserClass("com.example.MyHook", Map.of("factor", "2", "label", "x")));
    assertThat(config.hooks().forward().get(3)).isInstanceOfSatisfying(Hook.UserClass.class,
        user -> assertThat(user.params().keySet()).containsExactly("factor", "label"));

    assertThat(config.resolved().get("hooks.pre")).isEqualTo(List.of(
        "standardize {mean: vector [4], std: vector [4]}", "nan-guard {action: replace, nan: -1.0}"));
    assertThat(config.resolved().get("hooks.forward")).isEqualTo(List.of("relu", "clamp {max: 6.0}",
        "stats {bins: 4, min: 0.0, max: 8.0}", "class com.example.MyHook {factor: 2, label: x}"));
  }

  @Test
  void dottedKeysAndOverridesWork() {
    JobConfig config = parse("hooks.forward: [sigmoid]\n", "hooks.pre=[tanh, {type: l2-normalize, eps: 0.5}]");
    assertThat(config.hooks().forward()).containsExactly(new Hook.Sigmoid());
    assertThat(config.hooks().pre()).containsExactly(new Hook.Tanh(), new Hook.L2Normalize(0.5f));
  }

  @Test
  void hooksSurviveSerializationAndTakePartInEquality() throws Exception {
    JobConfig config = parse("hooks: {pre: [{type: standardize, mean: [0, 0, 0, 0], std: [1, 1, 1, 1]}]}\n");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(config);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(config);
    }
    JobConfig other = parse("hooks: {pre: [{type: standardize, mean: [0, 0, 0, 1], std: [1, 1, 1, 1]}]}\n");
    assertThat(other).isNotEqualTo(config);
  }

  @Test
  void rejectsAHooksValueThatIsNotAList() {
    assertThat(problems("hooks: {forward: relu}\n")).containsExactly(
        "hooks.forward in conf/h.yaml must be a list of hooks, e.g. [relu, {type: clamp, min: 0}], got 'relu'");
  }

  @Test
  void rejectsUnknownHookTypeNamingTheNearest() {
    assertThat(problems("hooks: {forward: [rlu, {type: softmx}, frobnicate]}\n")).containsExactly(
        "hooks.forward[0] in conf/h.yaml: unknown hook type 'rlu'; did you mean 'relu'?",
        "hooks.forward[1] in conf/h.yaml: unknown hook type 'softmx'; did you mean 'softmax'?",
        "hooks.forward[2] in conf/h.yaml: unknown hook type 'frobnicate'; the hook types are standardize,"
            + " l2-normalize, clamp, relu, sigmoid, tanh, softmax, nan-guard, stats, or give {class: ...} for a hook"
            + " class of your own");
  }

  @Test
  void rejectsEntriesOfTheWrongShape() {
    assertThat(problems("hooks: {pre: [5, {min: 0}, {type: relu, class: a.B}, {type: [relu]}]}\n")).containsExactly(
        "hooks.pre[0] in conf/h.yaml must be a hook name such as relu, or a map with a type or a class, got 5",
        "hooks.pre[1] in conf/h.yaml needs a type (e.g. {type: clamp, max: 6}) or a class (e.g. {class:"
            + " com.example.MyHook}); got {min: 0}",
        "hooks.pre[2] in conf/h.yaml has both a type and a class; give the type of a built-in hook, or the class of"
            + " your own",
        "hooks.pre[3] in conf/h.yaml: type must be a name, got [relu]");
  }

  @Test
  void rejectsUnknownParameterNamingHookAndNearestParameter() {
    assertThat(problems("hooks: {forward: [{type: clamp, mx: 6}, {type: relu, inplace: true}]}\n")).containsExactly(
        "hooks.forward[0] (clamp) in conf/h.yaml: unknown parameter 'mx'; did you mean 'max'? clamp takes min, max",
        "hooks.forward[1] (relu) in conf/h.yaml: unknown parameter 'inplace'; relu takes no parameters");
  }

  @Test
  void rejectsParametersOfTheWrongType() {
    assertThat(problems("""
        hooks:
          forward:
            - {type: clamp, min: zero}
            - {type: l2-normalize, eps: -1}
            - {type: nan-guard, action: ignore}
            - {type: stats, bins: 0}
            - {type: standardize, mean: [1, x, 2], std: [1, 1, 1]}
            - {type: standardize, mean: [0, 0, 0], std-path: ""}
        """)).containsExactly(
        "hooks.forward[0] (clamp) in conf/h.yaml: parameter 'min' must be a number, got 'zero'",
        "hooks.forward[1] (l2-normalize) in conf/h.yaml: parameter 'eps' must be a positive number, got -1.0",
        "hooks.forward[2] (nan-guard) in conf/h.yaml: parameter 'action' must be one of [fail, replace], got"
            + " 'ignore'",
        "hooks.forward[3] (stats) in conf/h.yaml: parameter 'bins' must be an integer from 1 to 10000, got 0",
        "hooks.forward[4] (standardize) in conf/h.yaml: parameter 'mean' must be a list of numbers, e.g. [0.5, 1.5],"
            + " got [1, x, 2]",
        "hooks.forward[5] (standardize) in conf/h.yaml: parameter 'std-path' must be a path, got ''");
  }

  @Test
  void rejectsMissingAndConflictingParameters() {
    assertThat(problems("""
        hooks:
          pre:
            - {type: standardize, mean: [1, 2, 3, 4], mean-path: m.npy}
            - {type: clamp}
            - {type: clamp, min: 6, max: 0}
            - {type: nan-guard, nan: 0, posinf: 1}
            - {type: stats}
          forward:
            - {type: stats, min: 5, max: 5}
            - {type: standardize, mean: [0, 0, 0], std: [1, 0, 1]}
        """)).containsExactly(
        "hooks.pre[0] (standardize) in conf/h.yaml: both mean and mean-path are given; give one",
        "hooks.pre[0] (standardize) in conf/h.yaml: needs std (a list of numbers) or std-path (a .npy file)",
        "hooks.pre[1] (clamp) in conf/h.yaml: needs min, max or both, e.g. {type: clamp, min: 0, max: 6}",
        "hooks.pre[2] (clamp) in conf/h.yaml: min 6.0 is greater than max 0.0; swap them",
        "hooks.pre[3] (nan-guard) in conf/h.yaml: nan, posinf are only used with action: replace; remove them, or set"
            + " action: replace",
        "hooks.pre[4] (stats) in conf/h.yaml: stats gathers statistics of the module's outputs; list it under"
            + " hooks.forward",
        "hooks.forward[0] (stats) in conf/h.yaml: the histogram's min 5.0 must be less than its max 5.0",
        "hooks.forward[1] (standardize) in conf/h.yaml: std[1] is 0, and dividing by it gives infinities; a column"
            + " with std 0 is constant: use std 1 for it");
  }

  @Test
  void rejectsVectorsOfTheWrongLengthWithBothNumbers() {
    assertThat(problems("""
        hooks:
          pre: [{type: standardize, mean: [0, 0, 0], std: [1, 1, 1, 1]}]
          forward: [{type: standardize, mean: [0, 0, 0], std: [1, 1, 1, 1]}]
        """)).containsExactly(
        "hooks.pre[0] (standardize) in conf/h.yaml: mean has 3 values, expected in_features = 4; give one value per"
            + " input feature",
        "hooks.forward[0] (standardize) in conf/h.yaml: std has 4 values, expected out_features = 3; give one value"
            + " per output");
  }

  @Test
  void rejectsBadUserHookEntries() {
    assertThat(problems("hooks: {forward: [{class: not a class}, {class: a.B, weights: [1, 2]}]}\n")).containsExactly(
        "hooks.forward[0] in conf/h.yaml: 'not a class' is not a Java class name; give the fully qualified name,"
            + " e.g. com.example.MyHook",
        "hooks.forward[1] (a.B) in conf/h.yaml: parameter 'weights' must be a string, number or boolean (a hook class"
            + " gets its parameters as strings), got [1, 2]");
  }

  @Test
  void hookProblemsAreGatheredWithOtherProblems() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> JobConfig.parse(config("hooks: {forward: [rlu]}\nblock: {max-rows: 0}\n"), SOURCE, List.of()));
    assertThat(e.problems()).hasSize(2);
    assertThat(e.problems()).anyMatch(p -> p.startsWith("block.max-rows"));
    assertThat(e.problems()).anyMatch(p -> p.startsWith("hooks.forward[0]"));
  }

  @Test
  void hooksExampleConfigRunsStandardizeThenGuardSigmoidAndStats() {
    JobConfig config = JobConfig.load(RepositoryRoot.find().resolve("conf/hooks-example.yaml"), List.of());
    assertThat(config.input().path()).isEqualTo("data/seed/features.parquet");
    assertThat(config.hooks().pre()).extracting(Hook::summary)
        .containsExactly("standardize {mean: vector [4], std: vector [4]}");
    assertThat(config.hooks().forward()).extracting(Hook::summary)
        .containsExactly("nan-guard {action: fail}", "sigmoid", "stats {bins: 10, min: 0.0, max: 1.0}");
  }

  @Test
  void unknownKeyUnderHooksNamesTheNearest() {
    assertThat(problems("hooks: {forwrd: [relu]}\n"))
        .containsExactly("Unknown config key 'hooks.forwrd' in conf/h.yaml; did you mean 'hooks.forward'?");
  }
}
