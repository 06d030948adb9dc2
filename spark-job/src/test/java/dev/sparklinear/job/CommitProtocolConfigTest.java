package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparklinear.testing.RecordingCommitProtocol;
import dev.sparklinear.testing.RecordingCommitProtocol.CommittedJob;
import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The commit protocol named in the config's {@code spark:} section commits the output, whichever writer writes it:
 * the command line is run in-process, making and stopping its own session, so this class shares none.
 */
class CommitProtocolConfigTest {
  @TempDir
  Path tmp;

  @ParameterizedTest
  @CsvSource({"columnar, overwrite", "spark, errorifexists"})
  void theConfiguredProtocolCommitsEveryTask(String writer, String mode) throws IOException {
    Path input = tmp.resolve("input");
    assertThat(SparkLinear.execute("generate", "--rows", "300", "--dim", "4", "--out", input.toString(),
        "--partitions", "3")).isZero();
    Path config = Files.writeString(tmp.resolve("recorded.yaml"),
        Files.readString(RepositoryRoot.resolve("conf/seed-example.yaml"), StandardCharsets.UTF_8)
            + "spark:\n  sql.sources.commitProtocolClass: " + RecordingCommitProtocol.class.getName() + "\n",
        StandardCharsets.UTF_8);
    Path output = tmp.resolve("output");
    if (mode.equals("overwrite")) { // an existing output: the new one is staged beside it, then moved in
      Files.writeString(Files.createDirectories(output).resolve("previous.txt"), "an earlier run's");
    }
    RecordingCommitProtocol.clear();

    int exitCode = SparkLinear.execute("run", config.toString(), "--set", "input.path=" + input, "--set",
        "output.path=" + output, "--set", "output.mode=" + mode, "--set", "output.parquet-writer=" + writer,
        "--show", "0");

    assertThat(exitCode).isZero();
    // Every task wrote one file (no partition is empty), named after its partition: part-NNNNN-...
    Set<Integer> written = partFiles(output).stream().map(name -> Integer.parseInt(name.substring(5, 10)))
        .collect(Collectors.toSet());
    assertThat(written).hasSizeGreaterThan(1);
    Set<Integer> everyTask = IntStream.range(0, written.size()).boxed().collect(Collectors.toSet());
    assertThat(written).isEqualTo(everyTask);
    assertThat(RecordingCommitProtocol.jobs()).extracting(CommittedJob::messages, CommittedJob::committedPartitions)
        .containsExactly(tuple(written.size(), everyTask));
    assertThat(output.resolve("_SUCCESS")).isRegularFile();
    assertThat(output.resolve("previous.txt")).doesNotExist();
    assertThat(new ObjectMapper().readTree(output.resolve(RunSummary.FILE_NAME).toFile()).path("writer").asText())
        .startsWith(writer);
  }

  private static List<String> partFiles(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("part-")).toList();
    }
  }
}
