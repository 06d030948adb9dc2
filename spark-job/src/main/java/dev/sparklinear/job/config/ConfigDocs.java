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
 * java -cp spark-job/target/spark-linear-job-0.1.0-SNAPSHOT-local.jar dev.sparklinear.job.config.ConfigDocs docs/config.md
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
    StringBuilder md = new StringBuilder();
    md.append("# Job configuration\n\n")
        .append("<!-- Generated from the JobConfig records by dev.sparklinear.job.config.ConfigDocs; do not edit by"
            + " hand. -->\n\n")
        .append("The job reads one YAML file and then applies `--set key=value` overrides. A value comes from, in\n")
        .append("order: the last `--set` of its key, then the file, then the default below.\n\n")
        .append("- Keys are kebab-case, with dots for hierarchy. Nested (`module: {in-features: 4}`), dotted\n")
        .append("  (`module.in-features: 4`) and mixed spellings are the same key; giving one key twice is an error.\n")
        .append("- An override value is read as YAML: `--set module.bias=false`, `--set block.max-rows=1024`,\n")
        .append("  `--set input.columns=[f0,f1]`, `--set module.weights.weight=[[1,2],[3,4]]`. The value `null`\n")
        .append("  unsets a key.\n")
        .append("- An unknown key is an error that names the nearest known key. Every problem in the file and the\n")
        .append("  overrides is reported at once.\n")
        .append("- Relative paths are kept as written and resolved by the job.\n\n")
        .append("## Keys\n\n")
        .append("| Key | Type | Default | Required | Description |\n")
        .append("|---|---|---|---|---|\n");
    for (ConfigKey key : ConfigKey.all()) {
      md.append("| `").append(key.key()).append("` | ").append(cell(key.typeText())).append(" | ")
          .append(cell(key.defaultText())).append(" | ").append(cell(key.doc().required())).append(" | ")
          .append(cell(key.doc().doc()));
      md.append(key.key().equals("hooks.pre") ? " Types and their parameters: "
          + hookTypes() + "." : "").append(" |\n");
    }
    md.append("\n## Spark settings\n\n")
        .append("Any key under `spark.` is passed to the Spark session as it is, with its value as a string:\n")
        .append("`spark: {sql.shuffle.partitions: 4}` sets `spark.sql.shuffle.partitions=4`. Without\n")
        .append("`spark.master` the job runs on `local[*]`, unless `spark-submit` gave a master.\n\n")
        .append("## Example\n\n")
        .append("```yaml\n")
        .append(EXAMPLE)
        .append("```\n");
    return md.toString();
  }

  /** Each built-in hook type with its parameters: {@code `clamp` (`min`, `max`)}. */
  private static String hookTypes() {
    return Hook.types().entrySet().stream().map(type -> "`" + type.getKey() + "`" + (type.getValue()
            .getRecordComponents().length == 0 ? "" : Arrays.stream(type.getValue().getRecordComponents())
            .map(c -> "`" + ConfigKey.kebab(c.getName()) + "`").collect(Collectors.joining(", ", " (", ")"))))
        .collect(Collectors.joining(", "));
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  private static final String EXAMPLE = ""
      + "module:\n"
      + "  in-features: 4\n"
      + "  out-features: 3\n"
      + "  bias: true\n"
      + "  weights:\n"
      + "    format: inline\n"
      + "    weight: [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]\n"
      + "    bias: [0.1, 0.2, 0.3]\n"
      + "input:\n"
      + "  path: data/seed/features.parquet\n"
      + "  column: features\n"
      + "output:\n"
      + "  path: out/seed-example\n"
      + "  layout: array\n"
      + "  mode: overwrite\n"
      + "  keep: [id]\n"
      + "block:\n"
      + "  max-rows: 4096\n"
      + "spark:\n"
      + "  sql.shuffle.partitions: 4\n";
}
