package dev.sparklinear.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based fuzzing of {@link JobConfig#parse}: random YAML-like text, random trees of known and unknown keys with
 * values of every type, and random {@code --set} overrides on a valid config. Each must give a config or a
 * {@link ConfigException} whose problems each name something, quickly; never another exception.
 */
class JobConfigFuzzTest {
  private static final String SOURCE = "conf/fuzz.yaml";
  private static final Duration TIME_LIMIT = Duration.ofSeconds(5);
  private static final YAMLMapper YAML = new YAMLMapper();

  private static final String VALID = """
      module:
        in-features: 4
        out-features: 3
        bias: false
        weights:
          format: inline
          weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
      input:
        path: data/in.parquet
        column: features
      output:
        path: out/x
      """;

  /** How one parse ended. */
  enum Outcome { PARSED, REJECTED }

  private static Outcome parseOrReject(String yaml, List<String> overrides) {
    return assertTimeoutPreemptively(TIME_LIMIT, () -> {
      try {
        JobConfig config = JobConfig.parse(yaml, SOURCE, overrides);
        assertThat(config.source()).isEqualTo(SOURCE);
        assertThat(config.module().inFeatures()).isPositive();
        assertThat(config.block().maxRows()).isPositive();
        assertThat(config.block().maxBytes()).isPositive();
        return Outcome.PARSED;
      } catch (ConfigException e) {
        assertThat(e.getMessage()).startsWith("Invalid job config " + SOURCE);
        assertThat(e.problems()).isNotEmpty().allSatisfy(problem -> assertThat(problem).isNotBlank());
        return Outcome.REJECTED;
      }
    });
  }

  @Property(tries = 1000)
  void randomYamlTextIsParsedOrRejected(@ForAll("yamlText") String yaml) {
    Statistics.collect(parseOrReject(yaml, List.of()));
  }

  @Property(tries = 600)
  void randomKeyTreesAreParsedOrRejected(@ForAll("configTrees") Map<String, Object> tree) {
    Statistics.collect(parseOrReject(toYaml(tree), List.of()));
  }

  @Property(tries = 1000)
  void randomOverridesOnAValidConfigAreParsedOrRejected(@ForAll("overrideLists") List<String> overrides) {
    Statistics.collect(parseOrReject(VALID, overrides));
  }

  @Property(tries = 300)
  void randomChangesToOneLineOfAValidConfigAreParsedOrRejected(
      @ForAll @IntRange(max = 20) int line, @ForAll("yamlFragments") String replacement) {
    List<String> lines = new ArrayList<>(VALID.lines().toList());
    int at = line % lines.size();
    String indent = lines.get(at).substring(0, lines.get(at).length() - lines.get(at).stripLeading().length());
    lines.set(at, indent + replacement);
    parseOrReject(String.join("\n", lines), List.of());
  }

  @Property(tries = 200)
  void validBlockSizesAreKeptAndInvalidOnesNamed(@ForAll("blockSizes") String value) {
    Outcome outcome = parseOrReject(VALID, List.of("block.max-rows=" + value));
    boolean positiveInt;
    try {
      positiveInt = Integer.parseInt(value) > 0;
    } catch (NumberFormatException e) {
      positiveInt = false;
    }
    assertThat(outcome).isEqualTo(positiveInt ? Outcome.PARSED : Outcome.REJECTED);
    if (positiveInt) {
      assertThat(JobConfig.parse(VALID, SOURCE, List.of("block.max-rows=" + value)).block().maxRows())
          .isEqualTo(Integer.parseInt(value));
    }
  }

  // ------------------------------------------------------------------------------------------------ generators

  /** Keys as dotted paths: documented ones, section names, Spark and reader options, and near-misses. */
  private static Arbitrary<String> keys() {
    List<String> known = new ArrayList<>(ConfigKey.keys());
    return Arbitraries.oneOf(
        Arbitraries.of(known),
        Arbitraries.of("module", "input", "output", "block", "hooks", "module.weights", "spark", "spark.master",
            "spark.executor.memory", "input.options", "input.options.header", "modul", "module.in_features",
            "input.colum", "", ".", "module.", ".module", "a.b.c", "__proto__", "~", "null", "true", "1"),
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz.-_").ofMaxLength(12));
  }

  /** Scalars of every type YAML gives, including numbers past int and long. */
  private static Arbitrary<Object> scalars() {
    return Arbitraries.oneOf(
        Arbitraries.integers().map(Object.class::cast),
        Arbitraries.of(0, -1, 1, 4, 3, Integer.MAX_VALUE, Integer.MIN_VALUE).map(Object.class::cast),
        Arbitraries.longs().map(Object.class::cast),
        Arbitraries.of(new BigInteger("9223372036854775808"), new BigInteger("-99999999999999999999999"))
            .map(Object.class::cast),
        Arbitraries.of(0.5, -0.0, 1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)
            .map(Object.class::cast),
        Arbitraries.of(true, false).map(Object.class::cast),
        Arbitraries.of("inline", "safetensors", "npy", "parquet", "json", "overwrite", "errorifexists", "columns",
                "vector", "relu", "stats", "clamp", "", " ", "4", "true", "~", "dev.sparklinear.testing.NotAHook")
            .map(Object.class::cast),
        Arbitraries.strings().ofMaxLength(8).map(Object.class::cast));
  }

  /** Values nested at most {@code depth} deep: scalars, nulls, lists and maps with random keys. */
  private static Arbitrary<Object> values(int depth) {
    Arbitrary<Object> scalar = scalars();
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<Object> inner = values(depth - 1);
    Arbitrary<Object> hookEntry = Combinators.combine(
            Arbitraries.of("type", "class", "min", "max", "mean", "std", "dim", "path"), inner)
        .as((k, v) -> {
          Map<String, Object> map = new LinkedHashMap<>();
          map.put(k, v);
          return (Object) map;
        });
    return Arbitraries.frequencyOf(
        Tuple.of(6, scalar),
        Tuple.of(1, Arbitraries.just(null)),
        Tuple.of(2, inner.list().ofMaxSize(4).map(Object.class::cast)),
        Tuple.of(1, hookEntry),
        Tuple.of(2, Arbitraries.maps(keys(), inner).ofMaxSize(3).map(Object.class::cast)));
  }

  @Provide
  Arbitrary<Map<String, Object>> configTrees() {
    Arbitrary<Object> value = values(2);
    Arbitrary<Map<String, Object>> randomTree = Arbitraries.maps(keys(), value).ofMaxSize(8);
    // Often on top of the required keys, so that the checks after the required ones run too.
    return Arbitraries.oneOf(randomTree, randomTree.map(extra -> {
      Map<String, Object> tree = new LinkedHashMap<>();
      tree.put("module.in-features", 4);
      tree.put("module.out-features", 3);
      tree.put("input.path", "in");
      tree.put("input.column", "features");
      tree.put("output.path", "out");
      tree.putAll(extra);
      return tree;
    }));
  }

  @Provide
  Arbitrary<List<String>> overrideLists() {
    Arbitrary<String> valueText = Arbitraries.oneOf(
        scalars().map(String::valueOf),
        Arbitraries.of("[1, 2]", "[[1, 2, 3, 4]]", "[[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]", "[]", "{}",
            "{a: 1}", "[relu, {type: clamp, min: 0}]", "[{class: java.lang.String}]", "'quoted'", "\"x", "[",
            "{", "- a", "!!binary AAAA", "!!java.lang.Runtime {}", "&a 1", "*a", "|", "0x10", "1_000", ".inf",
            "-.inf", ".nan", "~", "null", "1e400", "9223372036854775808"),
        Arbitraries.strings().ofMaxLength(12));
    Arbitrary<String> override = Arbitraries.frequencyOf(
        Tuple.of(8, Combinators.combine(keys(), valueText).as((k, v) -> k + "=" + v)),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(12)),
        Tuple.of(1, Arbitraries.of("=", "=x", "k=", "==", " = ", "block.max-rows")));
    return override.list().ofMaxSize(4);
  }

  @Provide
  Arbitrary<String> yamlText() {
    Arbitrary<String> token = Arbitraries.oneOf(
        Arbitraries.of(":", ": ", "- ", "[", "]", "{", "}", ",", "'", "\"", "#", "&a ", "*a", "!!str ", "!!int ",
            "!!binary ", "!!java.io.File ", "? ", "|", ">", "\n", "\n  ", "\n    ", "\t", "---\n", "...\n", "~",
            "%YAML 1.2\n",
            "<<: *a", "\\", "\u0000", "\ufeff"),
        keys(),
        scalars().map(String::valueOf));
    return Arbitraries.frequencyOf(
        Tuple.of(6, token.list().ofMaxSize(30).map(tokens -> String.join("", tokens))),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(60)),
        Tuple.of(2, Combinators.combine(keys(), token.list().ofMaxSize(6))
            .as((k, v) -> VALID + k + ": " + String.join("", v))));
  }

  @Provide
  Arbitrary<String> yamlFragments() {
    return Arbitraries.oneOf(
        Combinators.combine(keys(), scalars()).as((k, v) -> k + ": " + v),
        Arbitraries.of("in-features: -4", "in-features: 4.5", "in-features: [4]", "weights: inline",
            "column: {a: b}", "path:", "  extra", "- x", "format: pickle", "max-rows: 0", ":"),
        Arbitraries.strings().ofMaxLength(20));
  }

  @Provide
  Arbitrary<String> blockSizes() {
    return Arbitraries.oneOf(
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.of("0", "-1", "1", "2147483647", "2147483648", "1.5", "abc", "", "[1]", "{}", "true",
            "-0"));
  }

  private static String toYaml(Map<String, Object> tree) {
    try {
      return YAML.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
