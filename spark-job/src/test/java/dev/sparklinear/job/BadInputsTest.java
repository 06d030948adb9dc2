package dev.sparklinear.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.testing.RepositoryRoot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.LogManager;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per row of {@code docs/bad-inputs.md}: each runs the command line on one bad input and checks the exit code
 * and the message the table documents, that no stack trace is printed and that no output is written. The table is
 * read by the tests, so a changed message must be changed in the docs too, and a row without a test (or a test without
 * a row) fails {@link #everyRowOfTheTableHasATest}.
 *
 * <p>Most rows start and stop a local Spark session, as the command line does (a few seconds each); the config rows
 * fail before any session starts.
 */
class BadInputsTest {
  private static final Path DOC = RepositoryRoot.resolve("docs/bad-inputs.md");
  private static final Pattern ID = Pattern.compile("B\\d\\d");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");
  private static final Path SEED_INPUT = RepositoryRoot.resolve("data/seed/features.parquet");
  private static final Path SAFETENSORS = RepositoryRoot.resolve("data/weights/model_f32.safetensors");
  private static final Path OBJECT_NPY = RepositoryRoot.resolve("core/src/test/resources/weights/object.npy");

  @TempDir
  static Path dir;

  /** What a command returned and printed. */
  record Result(int exitCode, String out, String err) {}

  /** One row of the table. */
  record Row(String id, String input, List<String> message, int exitCode, String test) {}

  @BeforeAll
  static void writeBadInputs() throws IOException {
    // Log4j's console appender keeps the stderr it first sees; let that be the real one, not a test's capture.
    LogManager.getLogger(BadInputsTest.class).debug("logging started");
    SparkSession spark = SparkSession.builder()
        .master("local[1]")
        .appName("bad-inputs")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    try {
      StructType strings = new StructType().add("id", DataTypes.LongType).add("features", DataTypes.StringType);
      spark.createDataFrame(List.of(RowFactory.create(0L, "1,2,3,4")), strings)
          .write().parquet(dir.resolve("strings").toString());
      StructType vectors = new StructType().add("id", DataTypes.LongType)
          .add("features", DataTypes.createArrayType(DataTypes.FloatType));
      spark.createDataFrame(List.of(
              RowFactory.create(0L, floats(1, 2, 3, 4)),
              RowFactory.create(1L, floats(1, 2, 3, 4)),
              RowFactory.create(2L, floats(1, 2, 3, 4, 5))), vectors)
          .coalesce(1).write().parquet(dir.resolve("later-width").toString());
      spark.createDataFrame(List.of(
              RowFactory.create(0L, floats(1, 2, 3, 4)),
              RowFactory.create(1L, null)), vectors)
          .coalesce(1).write().parquet(dir.resolve("null-vector").toString());
    } finally {
      spark.stop();
    }

    byte[] noise = new byte[4096];
    new Random(42).nextBytes(noise);
    Files.createDirectories(dir.resolve("corrupt"));
    Files.write(dir.resolve("corrupt/part-0.parquet"), noise);
    Files.createDirectories(dir.resolve("empty"));
    Files.writeString(dir.resolve("file.txt"), "a file, not a folder");

    byte[] model = Files.readAllBytes(SAFETENSORS);
    Files.write(dir.resolve("truncated.safetensors"), Arrays.copyOf(model, model.length - 8));
    long headerLength = ByteBuffer.wrap(model).order(ByteOrder.LITTLE_ENDIAN).getLong();
    byte[] longHeader = model.clone();
    ByteBuffer.wrap(longHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerLength + 1000);
    Files.write(dir.resolve("long-header.safetensors"), longHeader);
  }

  private static float[] floats(float... values) {
    return values;
  }

  // ------------------------------------------------------------------------------------------------ input

  @Test
  @DisplayName("B01 corrupt Parquet input file")
  void corruptParquet() throws IOException {
    expectSet("B01", "corrupt", "input.path", dir.resolve("corrupt"));
  }

  @Test
  @DisplayName("B02 empty input folder")
  void emptyInputFolder() throws IOException {
    expectSet("B02", "empty-folder", "input.path", dir.resolve("empty"));
  }

  @Test
  @DisplayName("B03 input path missing")
  void missingInput() throws IOException {
    expectSet("B03", "missing-input", "input.path", dir.resolve("no-such-input"));
  }

  @Test
  @DisplayName("B04 unreadable input path: a path under a regular file")
  void inputUnderAFile() throws IOException {
    expectSet("B04", "under-a-file", "input.path", dir.resolve("file.txt/child"));
  }

  @Test
  @DisplayName("B05 unreadable input path: unsupported URI scheme")
  void unsupportedScheme() throws IOException {
    expectSet("B05", "scheme", "input.path", "nosuch://host/features");
  }

  @Test
  @DisplayName("B06 feature column missing")
  void missingColumn() throws IOException {
    expectSet("B06", "no-column", "input.column", "embedding");
  }

  @Test
  @DisplayName("B07 feature column of the wrong type")
  void wrongColumnType() throws IOException {
    expectSet("B07", "wrong-type", "input.path", dir.resolve("strings"));
  }

  @Test
  @DisplayName("B08 vector width differs from in_features, in the first row")
  void widthMismatchBeforeTheRun() throws IOException {
    expectSet("B08", "width-first", "module.in-features", "5");
  }

  @Test
  @DisplayName("B09 vector width differs from in_features, in a later row")
  void widthMismatchInALaterRow() throws IOException {
    expectSet("B09", "width-later", "input.path", dir.resolve("later-width"));
  }

  @Test
  @DisplayName("B10 null feature vector")
  void nullVector() throws IOException {
    expectSet("B10", "null-vector", "input.path", dir.resolve("null-vector"));
  }

  // ------------------------------------------------------------------------------------------------ weights

  @Test
  @DisplayName("B11 safetensors with a lying header: offsets past the end")
  void safetensorsOffsetsPastTheEnd() throws IOException {
    expectSafetensors("B11", "st-offsets", dir.resolve("truncated.safetensors"), 4);
  }

  @Test
  @DisplayName("B12 safetensors with a lying header: header length past the end")
  void safetensorsHeaderPastTheEnd() throws IOException {
    expectSafetensors("B12", "st-header", dir.resolve("long-header.safetensors"), 4);
  }

  @Test
  @DisplayName("B13 npy file holding Python objects")
  void npyOfObjects() throws IOException {
    String yaml = baseConfig("npy-objects") + """
        module:
          in-features: 4
          out-features: 3
          bias: false
          weights: {format: npy, path: "%s"}
        """.formatted(OBJECT_NPY);
    expectYaml("B13", "npy-objects", yaml, Map.of("<weights>", OBJECT_NPY.toString()));
  }

  @Test
  @DisplayName("B14 weights whose shape does not match the layer")
  void weightShapeMismatch() throws IOException {
    expectSafetensors("B14", "st-shape", SAFETENSORS, 5);
  }

  @Test
  @DisplayName("B15 weights file missing")
  void missingWeights() throws IOException {
    expectSafetensors("B15", "st-missing", dir.resolve("no-such.safetensors"), 4);
  }

  // ------------------------------------------------------------------------------------------------ config

  @Test
  @DisplayName("B16 unknown config key")
  void unknownKey() throws IOException {
    expectYaml("B16", "unknown-key", seedConfig("unknown-key") + "  mdoe: overwrite\n", Map.of());
  }

  @Test
  @DisplayName("B17 config value of the wrong type")
  void wrongType() throws IOException {
    expectYaml("B17", "wrong-value-type", seedConfig("wrong-value-type").replace("in-features: 4", "in-features: four"),
        Map.of());
  }

  @Test
  @DisplayName("B18 missing required config key")
  void missingRequiredKey() throws IOException {
    String yaml = seedConfig("missing-key").lines().filter(line -> !line.contains("out-features"))
        .reduce("", (a, b) -> a + b + "\n");
    expectYaml("B18", "missing-key", yaml, Map.of());
  }

  @Test
  @DisplayName("B19 negative block size")
  void negativeBlockSize() throws IOException {
    expectYaml("B19", "negative-block", seedConfig("negative-block") + "block: {max-rows: -5}\n", Map.of());
  }

  @Test
  @DisplayName("B20 output path exists and output.mode is errorifexists")
  void outputExists() throws IOException {
    Path output = dir.resolve("exists-out");
    Files.createDirectories(output);
    Path marker = Files.writeString(output.resolve("keep.txt"), "earlier output");
    Path config = Files.writeString(dir.resolve("exists.yaml"), seedConfig("exists"));
    Result result = execute("run", config.toString());

    check(row("B20"), result, config, Map.of("<output>", output.toString()));
    assertThat(marker).hasContent("earlier output");
    try (var files = Files.list(output)) {
      assertThat(files).containsExactly(marker);
    }
  }

  @Test
  @DisplayName("B21 config file missing")
  void missingConfigFile() {
    Path config = dir.resolve("no-such.yaml");
    check(row("B21"), execute("run", config.toString()), config, Map.of());
  }

  @Test
  @DisplayName("B22 malformed YAML")
  void malformedYaml() throws IOException {
    expectYaml("B22", "malformed", "module: {in-features: 4\ninput: [\n", Map.of());
  }

  // ------------------------------------------------------------------------------------------------ the table

  @Test
  void everyRowOfTheTableHasATest() throws ReflectiveOperationException {
    Map<String, Row> rows = rows();
    TreeSet<String> tested = new TreeSet<>();
    for (Method method : BadInputsTest.class.getDeclaredMethods()) {
      DisplayName name = method.getAnnotation(DisplayName.class);
      if (name != null && method.isAnnotationPresent(Test.class)) {
        Matcher id = ID.matcher(name.value());
        assertThat(id.lookingAt()).as("display name %s starts with a row id", name.value()).isTrue();
        assertThat(tested.add(id.group())).as("one test for %s", id.group()).isTrue();
        assertThat(rows.get(id.group())).as("row %s in %s", id.group(), DOC).isNotNull();
        assertThat(rows.get(id.group()).test()).isEqualTo("BadInputsTest");
      }
    }
    for (Row row : rows.values()) {
      if (row.test().equals("BadInputsTest")) {
        assertThat(tested).as("a test in BadInputsTest for row %s", row.id()).contains(row.id());
      } else {
        // A row covered elsewhere names its test as Class#method; it must exist and be a test.
        String[] parts = row.test().split("#");
        assertThat(parts).as("test of row %s", row.id()).hasSize(2);
        Class<?> type = Class.forName(parts[0]);
        assertThat(type.getDeclaredMethod(parts[1]).isAnnotationPresent(Test.class))
            .as("%s is a test", row.test()).isTrue();
      }
      assertThat(row.exitCode()).as("exit code of %s", row.id()).isIn(SparkLinear.FAILED, SparkLinear.BAD_INPUT);
    }
    assertThat(rows).hasSizeGreaterThanOrEqualTo(20);
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** The table in docs/bad-inputs.md by row id. */
  static Map<String, Row> rows() {
    Map<String, Row> rows = new LinkedHashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(DOC);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + DOC, e);
    }
    for (String line : lines) {
      if (!line.startsWith("| B")) {
        continue;
      }
      List<String> cells = cells(line);
      assertThat(cells).as("cells of %s", line).hasSize(5);
      List<String> message = CODE.matcher(cells.get(2)).results().map(m -> m.group(1)).toList();
      assertThat(message).as("a message in backticks in %s", line).isNotEmpty();
      Matcher test = CODE.matcher(cells.get(4));
      assertThat(test.find()).as("a test in backticks in %s", line).isTrue();
      Row row = new Row(cells.get(0), cells.get(1), message, Integer.parseInt(cells.get(3)), test.group(1));
      assertThat(rows.put(row.id(), row)).as("row id %s once", row.id()).isNull();
    }
    return rows;
  }

  /** The cells of a Markdown table row; {@code \|} is a pipe inside a cell. */
  private static List<String> cells(String line) {
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    for (int i = 1; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '|') {
        cell.append('|');
        i++;
      } else if (c == '|') {
        cells.add(cell.toString().strip());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
    return cells;
  }

  private static Row row(String id) {
    Row row = rows().get(id);
    assertThat(row).as("row %s in %s", id, DOC).isNotNull();
    return row;
  }

  /** Runs the seed job with {@code --set key=value}; {@code <input>} in the message stands for the value. */
  private static void expectSet(String id, String name, String key, Object value) throws IOException {
    Path config = Files.writeString(dir.resolve(name + ".yaml"), seedConfig(name));
    Result result = execute("run", config.toString(), "--set", key + "=" + value);
    check(row(id), result, config, Map.of("<input>", String.valueOf(value)));
  }

  /** Runs {@code yaml} as the config {@code name}.yaml. */
  private static void expectYaml(String id, String name, String yaml, Map<String, String> placeholders)
      throws IOException {
    Path config = Files.writeString(dir.resolve(name + ".yaml"), yaml);
    check(row(id), execute("run", config.toString()), config, placeholders);
  }

  /** Runs the seed job with its layer read from {@code weights}; {@code <weights>} in the message is that path. */
  private static void expectSafetensors(String id, String name, Path weights, int inFeatures) throws IOException {
    expectYaml(id, name, safetensorsConfig(name, weights, inFeatures), Map.of("<weights>", weights.toString()));
  }

  /** The seed job with its layer read from a safetensors file (prefix {@code fc.}). */
  private static String safetensorsConfig(String name, Path weights, int inFeatures) {
    return baseConfig(name) + """
        module:
          in-features: %d
          out-features: 3
          weights: {format: safetensors, path: "%s", prefix: "fc."}
        """.formatted(inFeatures, weights);
  }

  /** The seed job: a 4 -> 3 layer on data/seed, writing to {@code name}-out. */
  private static String seedConfig(String name) {
    return """
        module:
          in-features: 4
          out-features: 3
          bias: false
          init-seed: 7
        input:
          path: "%s"
          column: features
        """.formatted(SEED_INPUT) + baseOutput(name);
  }

  private static String baseConfig(String name) {
    return """
        input:
          path: "%s"
          column: features
        """.formatted(SEED_INPUT) + baseOutput(name);
  }

  private static String baseOutput(String name) {
    return """
        output:
          path: "%s"
        """.formatted(dir.resolve(name + "-out"));
  }

  /**
   * Checks a run against its row: the exit code, one {@code spark-linear: error:} line starting with the documented
   * message (placeholders {@code <config>}, {@code <output>} and the given ones filled in), no stack trace, nothing on
   * stdout, and no output folder unless it was there before.
   */
  private static void check(Row row, Result result, Path config, Map<String, String> placeholders) {
    String output = config.getFileName().toString().replace(".yaml", "-out");
    Map<String, String> values = new LinkedHashMap<>(placeholders);
    values.put("<config>", config.toString());
    values.put("<output>", dir.resolve(output).toString());
    List<String> parts = new ArrayList<>();
    for (String part : row.message()) {
      for (Map.Entry<String, String> value : values.entrySet()) {
        part = part.replace(value.getKey(), value.getValue());
      }
      parts.add(part);
    }

    assertThat(result.exitCode()).as("exit code of %s; stderr: %s", row.id(), result.err()).isEqualTo(row.exitCode());
    List<String> errors = result.err().lines().filter(line -> line.startsWith("spark-linear:")).toList();
    assertThat(errors).as("error lines of %s", row.id()).hasSize(1);
    assertThat(errors.get(0)).as("message of %s", row.id()).startsWith(parts.get(0));
    String message = result.err().substring(result.err().indexOf(parts.get(0)));
    int from = parts.get(0).length();
    for (String later : parts.subList(1, parts.size())) {
      assertThat(message.indexOf(later, from)).as("later part of the message of %s: %s", row.id(), later)
          .isGreaterThanOrEqualTo(from);
      from = message.indexOf(later, from) + later.length();
    }
    assertThat(result.err()).as("stderr of %s", row.id()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(result.out()).as("stdout of %s", row.id()).isEmpty();
    if (!row.id().equals("B20")) {
      assertThat(dir.resolve(output)).as("output of %s", row.id()).doesNotExist();
    }
  }

  private static Result execute(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = SparkLinear.execute(args);
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
