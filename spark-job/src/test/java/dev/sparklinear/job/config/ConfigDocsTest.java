package dev.sparklinear.job.config;

import dev.sparklinear.testing.RepositoryRoot;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
  @Test
  void committedDocsMatchTheKeys() throws Exception {
    Path docs = RepositoryRoot.find().resolve("docs/config.md");

    assertThat(docs).exists();
    assertThat(Files.readString(docs, StandardCharsets.UTF_8))
        .as("docs/config.md is out of date; regenerate it from the repository root with"
            + " mvn -q -pl spark-job -am package -DskipTests && java -cp"
            + " spark-job/target/spark-linear-job-*-local.jar dev.sparklinear.job.config.ConfigDocs"
            + " docs/config.md")
        .isEqualTo(ConfigDocs.markdown());
  }

  @Test
  void everyKeyHasARowWithItsDefault() {
    String markdown = ConfigDocs.markdown();

    for (ConfigKey key : ConfigKey.all()) {
      assertThat(markdown).contains("| `" + key.key() + "` | ");
    }
    assertThat(markdown)
        .contains("| `block.max-rows` | positive integer | `4096` | no |")
        .contains("| `output.mode` | one of [errorifexists, overwrite] | `errorifexists` | no |")
        .contains("| `module.in-features` | positive integer | none | without `module.layers` |")
        .contains("| `input.path` | non-empty string | none | yes |");
  }

  @Test
  void exampleInTheDocsIsAValidConfig() {
    String markdown = ConfigDocs.markdown();
    String example = markdown.substring(markdown.indexOf("```yaml\n") + 8, markdown.lastIndexOf("```"));

    JobConfig config = JobConfig.parse(example, "docs/config.md", java.util.List.of());

    assertThat(config.module().inFeatures()).isEqualTo(4);
    assertThat(config.module().weights().bias()).containsExactly(0.1f, 0.2f, 0.3f);
  }
}
