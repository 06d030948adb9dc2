package dev.sparklinear.job.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Writes {@code docs/config.md} from the keys declared on {@link JobConfig}'s records ({@link ConfigKey}), so that the
 * reference cannot drift from the code. Run from the repository root after changing a key (the runnable jar holds
 * Jackson, which reads the declarations):
 *
 * <pre>{@code
 * mvn -q -pl spark-job -am package -DskipTests
 * java -cp spark-job/target/spark-linear-job-*-local.jar dev.sparklinear.job.config.ConfigDocs docs/config.md
 * }</pre>
 */
public final class ConfigDocs {
  private ConfigDocs() {}

  public static void main(String[] args) throws IOException {
    Path target = Path.of(args.length > 0 ? args[0] : "docs/config.md");
    if (target.getParent() != null) {
      Files.createDirectories(target.getParent());
    }
    Files.writeString(target, markdown(), StandardCharsets.UTF_8);
    System.out.println("Wrote " + target);
  }

  /** The whole of {@code docs/config.md}. */
  public static String markdown() {
    StringBuilder md = new StringBuilder("""
        # Job configuration

        <!-- Generated from the JobConfig records by dev.sparklinear.job.config.ConfigDocs; do not edit by hand. -->

        The job reads one YAML file and then applies `--set key=value` overrides. A value comes from, in
        order: the last `--set` of its key, then the file, then the default below.

        - Keys are kebab-case, with dots for hierarchy. Nested (`module: {in-features: 4}`), dotted
          (`module.in-features: 4`) and mixed spellings are the same key; giving one key twice is an error.
        - An override value is read as YAML: `--set module.bias=false`, `--set block.max-rows=1024`,
          `--set input.columns=[f0,f1]`, `--set module.weights.weight=[[1,2],[3,4]]`. The value `null`
          unsets a key.
        - An unknown key is an error that names the nearest known key. Every problem in the file and the
          overrides is reported at once.
        - Relative paths are kept as written and resolved by the job.

        ## Keys

        | Key | Type | Default | Required | Description |
        |---|---|---|---|---|
        """);
    for (ConfigKey key : ConfigKey.all()) {
      Class<?> family = key.key().equals("hooks.pre") ? Hook.class : key.key().equals("module.layers") ? Layer.class
          : null;
      String hooks = family == null ? "" : " Types and their parameters: " + types(family) + ".";
      md.append("| `").append(key.key()).append("` | ").append(cell(key.typeText())).append(" | ")
          .append(cell(key.defaultText())).append(" | ").append(cell(key.doc().required())).append(" | ")
          .append(cell(key.doc().doc() + hooks)).append(" |\n");
    }
    return md.append("""

        ## Spark settings

        Any key under `spark.` is passed to the Spark session as it is, with its value as a string:
        `spark: {sql.shuffle.partitions: 4}` sets `spark.sql.shuffle.partitions=4`. Without
        `spark.master` the job runs on `local[*]`, unless `spark-submit` gave a master.

        ## Example

        ```yaml
        module:
          in-features: 4
          out-features: 3
          bias: true
          weights:
            format: inline
            weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
            bias: [0.1, 0.2, 0.3]
        input:
          path: data/seed/features.parquet
          column: features
        output:
          path: out/seed-example
          layout: array
          mode: overwrite
          keep: [id]
        block:
          max-rows: 4096
        spark:
          sql.shuffle.partitions: 4
        ```
        """).toString();
  }

  /** Each built-in hook or layer type with its parameters: {@code `clamp` (`min`, `max`)}. */
  private static String types(Class<?> family) {
    return ConfigKey.subtypes(family).entrySet().stream().map(type -> "`" + type.getKey() + "`" + (type.getValue()
            .getRecordComponents().length == 0 ? "" : Arrays.stream(type.getValue().getRecordComponents())
            .map(c -> "`" + ConfigKey.kebab(c.getName()) + "`").collect(Collectors.joining(", ", " (", ")"))))
        .collect(Collectors.joining(", "));
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }
}
