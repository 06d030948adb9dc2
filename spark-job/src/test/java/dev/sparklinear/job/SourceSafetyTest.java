package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.testing.RepositoryRoot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Scans the production sources of {@code core} and {@code spark-job} for the two ways a file could run code it was
 * handed: Java deserialization and pickle. The only {@code ObjectInputStream}s allowed read back what the job itself
 * serialized to ship to executors; pickle is only ever named, in the message that refuses npy object arrays and in
 * comments.
 */
class SourceSafetyTest {
  private static final List<Path> SOURCE_ROOTS = List.of(
      RepositoryRoot.resolve("core/src/main/java"), RepositoryRoot.resolve("spark-job/src/main/java"));

  /** Each file allowed an ObjectInputStream, with the exact lines that may mention it. */
  private static final Map<String, List<String>> OBJECT_INPUT_STREAMS = Map.of(
      "dev/sparklinear/core/nn/Module.java", List.of(
          // Java serialization's hook for the module's own hooks, when Spark ships the module it broadcast.
          "import java.io.ObjectInputStream;",
          "private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {"),
      "dev/sparklinear/spark/hooks/StatsHook.java", List.of(
          // A task's copy of the accumulator the driver serialized into the hook.
          "import java.io.ObjectInputStream;",
          "try (ObjectInputStream in = new ClassLoaderObjectInputStream("
              + "new ByteArrayInputStream(shippedAccumulator))) {",
          "private static final class ClassLoaderObjectInputStream extends ObjectInputStream {",
          "ClassLoaderObjectInputStream(InputStream in) throws IOException {"));

  @Test
  void onlyTheJobsOwnShippedObjectsAreDeserialized() {
    Map<String, List<String>> found = linesMentioning("ObjectInputStream");
    assertThat(found).containsOnlyKeys(OBJECT_INPUT_STREAMS.keySet());
    found.forEach((file, lines) -> assertThat(lines).as(file)
        .containsExactlyInAnyOrderElementsOf(OBJECT_INPUT_STREAMS.get(file)));

    assertThat(linesMentioning("XMLDecoder")).isEmpty();
    assertThat(linesMentioning("readUnshared")).isEmpty();
    assertThat(linesMentioning(".readObject(")).containsOnlyKeys("dev/sparklinear/core/nn/Module.java",
        "dev/sparklinear/spark/hooks/StatsHook.java");
  }

  @Test
  void pickleIsOnlyEverRefusedOrMentionedInComments() {
    Map<String, List<String>> found = linesMentioning("pickl");
    assertThat(found).as("files mentioning pickle").containsOnlyKeys("dev/sparklinear/core/weights/NpyReader.java",
        "dev/sparklinear/core/nn/Module.java");
    found.forEach((file, lines) -> assertThat(lines).as(file).allSatisfy(line ->
        assertThat(line.startsWith("*") || line.startsWith("//") || insideStringLiteral(line, "pickl"))
            .as("a comment or a message: %s", line).isTrue()));
    assertThat(found.get("dev/sparklinear/core/weights/NpyReader.java"))
        .anySatisfy(line -> assertThat(line).contains("mean unpickling, which is never done because a pickle can run"));

    assertThat(linesMentioning("razorvine")).as("Spark's pickle library").isEmpty();
    assertThat(linesMentioning("torch.load")).isEmpty();
  }

  /** Whether the first {@code word} in {@code line} (lower case) stands after an odd number of double quotes. */
  private static boolean insideStringLiteral(String line, String word) {
    int at = line.toLowerCase(Locale.ROOT).indexOf(word);
    return line.substring(0, at).chars().filter(c -> c == '"').count() % 2 == 1;
  }

  /** The stripped lines mentioning {@code text} (case-insensitive), by file relative to its source root. */
  private static Map<String, List<String>> linesMentioning(String text) {
    String needle = text.toLowerCase(Locale.ROOT);
    Map<String, List<String>> found = new TreeMap<>();
    for (Path root : SOURCE_ROOTS) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          List<String> lines = Files.readAllLines(file).stream()
              .map(String::strip)
              .filter(line -> line.toLowerCase(Locale.ROOT).contains(needle))
              .toList();
          if (!lines.isEmpty()) {
            found.put(root.relativize(file).toString(), lines);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return found;
  }
}
