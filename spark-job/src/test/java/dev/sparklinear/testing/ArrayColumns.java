package dev.sparklinear.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Compares an array column of two DataFrames value by value within an absolute tolerance, matching rows by a key
 * column. spark-testing-base's approximate comparison compares arrays exactly, which float32 results cannot be held to.
 *
 * <pre>{@code
 * ArrayColumns.assertClose(output, expected, "id", "output", 1e-5);
 * }</pre>
 */
public final class ArrayColumns {
  private static final int MAX_REPORTED = 10;

  private ArrayColumns() {}

  /**
   * Fails unless both frames have the same keys, each once, and for every key arrays of the same length whose values
   * differ by at most {@code tolerance}. A null array, a null value or NaN never matches.
   */
  public static void assertClose(Dataset<Row> actual, Dataset<Row> expected, String keyColumn, String arrayColumn,
      double tolerance) {
    Map<Object, double[]> actualByKey = byKey(actual, keyColumn, arrayColumn, "actual");
    Map<Object, double[]> expectedByKey = byKey(expected, keyColumn, arrayColumn, "expected");
    List<String> problems = new ArrayList<>();
    TreeSet<String> missing = new TreeSet<>();
    TreeSet<String> extra = new TreeSet<>();
    expectedByKey.keySet().stream().filter(k -> !actualByKey.containsKey(k)).forEach(k -> missing.add(k.toString()));
    actualByKey.keySet().stream().filter(k -> !expectedByKey.containsKey(k)).forEach(k -> extra.add(k.toString()));
    if (!missing.isEmpty()) {
      problems.add("rows missing from actual: " + keyColumn + " in " + missing);
    }
    if (!extra.isEmpty()) {
      problems.add("rows not expected: " + keyColumn + " in " + extra);
    }
    for (Map.Entry<Object, double[]> entry : expectedByKey.entrySet()) {
      double[] want = entry.getValue();
      if (!actualByKey.containsKey(entry.getKey())) {
        continue; // reported as missing above
      }
      double[] got = actualByKey.get(entry.getKey());
      String row = keyColumn + "=" + entry.getKey();
      if (want == null || got == null || want.length != got.length) {
        problems.add(row + ": " + arrayColumn + " is " + describe(got) + ", expected " + describe(want));
        continue;
      }
      for (int i = 0; i < want.length; i++) {
        double difference = Math.abs(got[i] - want[i]);
        if (!(difference <= tolerance)) { // NaN fails too
          problems.add(row + ": " + arrayColumn + "[" + i + "] is " + got[i] + ", expected " + want[i]
              + " (difference " + difference + " > tolerance " + tolerance + ")");
        }
      }
    }
    if (!problems.isEmpty()) {
      List<String> shown = problems.subList(0, Math.min(MAX_REPORTED, problems.size()));
      throw new AssertionError("Column '" + arrayColumn + "' differs in " + problems.size() + " place(s):\n  "
          + String.join("\n  ", shown) + (problems.size() > shown.size() ? "\n  ..." : ""));
    }
  }

  private static Map<Object, double[]> byKey(Dataset<Row> frame, String keyColumn, String arrayColumn, String side) {
    Map<Object, double[]> out = new LinkedHashMap<>();
    for (Row row : frame.select(keyColumn, arrayColumn).collectAsList()) {
      Object key = normalize(row.get(0));
      List<?> values = row.isNullAt(1) ? null : row.getList(1);
      double[] array = null;
      if (values != null) {
        array = new double[values.size()];
        for (int i = 0; i < array.length; i++) {
          Object value = values.get(i);
          array[i] = value == null ? Double.NaN : ((Number) value).doubleValue();
        }
      }
      if (out.containsKey(key)) {
        throw new AssertionError("The " + side + " frame has " + keyColumn + "=" + key + " more than once");
      }
      out.put(key, array);
    }
    return out;
  }

  /** Integral keys compare by value whatever their type (a csv read gives int where Parquet kept bigint). */
  private static Object normalize(Object key) {
    if (key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte) {
      return ((Number) key).longValue();
    }
    return key;
  }

  private static String describe(double[] values) {
    return values == null ? "null" : Arrays.toString(values);
  }
}
