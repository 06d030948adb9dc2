package dev.sparklinear.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.nn.RemovableHandle;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * The README's "The module library in Java" example, as it is written there, with assertions added between its lines.
 * {@link #readmeShowsTheCodeOfThisTest} keeps the two the same: the README's code block must be this test's code once
 * the lines that assert are taken out.
 */
class ReadmeExampleTest {
  private static final String BEGIN = "// README example begins";
  private static final String END = "// README example ends";

  @Test
  void moduleLibraryExampleRunsAsTheReadmeSays() {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    List<float[]> seconds = new ArrayList<>();
    try {
      // README example begins
      try (BufferAllocator allocator = new RootAllocator()) {
        Linear fc = new Linear(4, 3, false);
        fc.setWeight(new Parameter(Tensor.of(new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}})));

        float[] y = fc.call(1, 2, 3, 4);                                  // [30.0, 40.0, 50.0]
        assertThat(y).containsExactly(30f, 40f, 50f);

        try (RemovableHandle handle = fc.registerForwardHook((module, input, output, context) -> {
               System.out.println(module + " ran on " + context.rows() + " rows");
               return null;                                               // null keeps the output
             });
             FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, 2, 3, 4}, {0, 0, 0, 1}});
             FloatBlock out = fc.call(x)) {                              // the caller closes what call() returns
          float[] second = out.row(1);                                    // [4.0, 5.0, 6.0]
          assertThat(second).containsExactly(4f, 5f, 6f);
          assertThat(out.row(0)).containsExactly(30f, 40f, 50f);
          seconds.add(second);
        }
      }
      // README example ends
    } finally {
      System.setOut(stdout);
    }

    assertThat(seconds).hasSize(1);
    // The hook ran once, on the block call only: the vector call before it was registered printed nothing.
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .isEqualTo("Linear(in_features=4, out_features=3, bias=False) ran on 2 rows" + System.lineSeparator());
  }

  @Test
  void readmeShowsTheCodeOfThisTest() throws IOException {
    List<String> readme = readmeExample();
    List<String> test = testExample();
    assertThat(readme).as("README example").isNotEmpty();
    assertThat(test).as("the README's 'The module library in Java' code, as in ReadmeExampleTest").isEqualTo(readme);
  }

  /** The lines of the first java block after the README heading "The module library in Java", right-trimmed. */
  private static List<String> readmeExample() throws IOException {
    List<String> lines = Files.readAllLines(repositoryRoot().resolve("README.md"), StandardCharsets.UTF_8);
    int heading = lines.indexOf("## The module library in Java");
    assertThat(heading).as("README heading").isNotNegative();
    int start = lines.subList(heading, lines.size()).indexOf("```java") + heading + 1;
    int end = lines.subList(start, lines.size()).indexOf("```") + start;
    List<String> block = new ArrayList<>();
    for (String line : lines.subList(start, end)) {
      block.add(line.stripTrailing());
    }
    return block;
  }

  /** The example in this file, less the assertion lines, with the test method's indentation taken off. */
  private static List<String> testExample() throws IOException {
    Path source = repositoryRoot().resolve("core/src/test/java/dev/sparklinear/core/ReadmeExampleTest.java");
    List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
    int start = indexOfTrimmed(lines, BEGIN) + 1;
    int end = indexOfTrimmed(lines, END);
    String indent = lines.get(start).substring(0, lines.get(start).indexOf("try"));
    List<String> example = new ArrayList<>();
    for (String line : lines.subList(start, end)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("assertThat(") || trimmed.startsWith("seconds.add(")) {
        continue;
      }
      example.add(line.startsWith(indent) ? line.substring(indent.length()).stripTrailing() : line.stripTrailing());
    }
    return example;
  }

  private static int indexOfTrimmed(List<String> lines, String text) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals(text)) {
        return i;
      }
    }
    throw new AssertionError("No line '" + text + "' in ReadmeExampleTest.java");
  }

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("README.md"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("No README.md above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
