package dev.sparklinear.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparklinear.spark.hooks.DimensionStats;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a run did, for people (the printed summary) and for lineage ({@code OUTPUT/_spark_linear.json}): the counts,
 * the time, the exact module and weights, the Spark version, the resolved config and the statistics gathered by
 * {@code stats} hooks, by config entry ({@code hooks.forward[1]}), one entry per output dimension.
 */
public record RunSummary(
    long rowsIn,
    long rowsOut,
    long blocks,
    double wallSeconds,
    String module,
    String weights,
    Map<String, String> weightsSha256,
    Map<String, String> weightsMetadata,
    String sparkVersion,
    String master,
    String outputPath,
    Map<String, Object> config,
    Map<String, List<DimensionStats>> hookStatistics,
    String invalidRowsPolicy,
    Map<String, Long> invalidRows,
    Map<String, Long> kernels,
    String writer) {

  /** The name of the summary file written into the output folder. */
  public static final String FILE_NAME = "_spark_linear.json";

  public RunSummary {
    hookStatistics = Collections.unmodifiableMap(new LinkedHashMap<>(hookStatistics));
    invalidRows = Collections.unmodifiableMap(new LinkedHashMap<>(invalidRows));
    kernels = Collections.unmodifiableMap(new LinkedHashMap<>(kernels));
  }

  /** Invalid rows of every reason. */
  public long invalidRowsTotal() {
    return invalidRows.values().stream().mapToLong(Long::longValue).sum();
  }

  public double rowsPerSecond() {
    return wallSeconds > 0 ? rowsOut / wallSeconds : 0;
  }

  /**
   * {@link #rowsPerSecond()} as a person reads it: whole rows from 100 on ({@code 1,953,112 rows/s}), else two
   * significant digits ({@code 0.25 rows/s} for 3 rows in 12 s), so that a small run does not show {@code 0 rows/s}.
   */
  public String rateText() {
    return rate(rowsPerSecond()) + " rows/s";
  }

  static String rate(double perSecond) {
    if (perSecond >= 100 || perSecond == 0 || !Double.isFinite(perSecond)) {
      return String.format(Locale.ROOT, "%,.0f", perSecond);
    }
    return new BigDecimal(perSecond).round(new MathContext(2)).stripTrailingZeros().toPlainString();
  }

  /** Pretty-printed JSON, keys in a fixed order. */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("rows_in", rowsIn);
    json.put("rows_out", rowsOut);
    json.put("blocks", blocks);
    // rows_in = rows_out + skipped or quarantined rows; with invalid-rows null, rows_out includes the null outputs.
    Map<String, Object> invalid = new LinkedHashMap<>();
    invalid.put("policy", invalidRowsPolicy);
    invalid.put("total", invalidRowsTotal());
    invalid.put("by_reason", invalidRows);
    json.put("invalid_rows", invalid);
    json.put("wall_seconds", Math.round(wallSeconds * 1000) / 1000.0);
    // As the text shows it: whole rows for any real run, two significant digits (not 0) for a run of a few rows.
    double perSecond = rowsPerSecond();
    json.put("rows_per_second", perSecond >= 100 ? (Object) Math.round(perSecond)
        : (Object) Double.parseDouble(rate(perSecond).replace(",", "")));
    json.put("module", module);
    json.put("weights", weights);
    json.put("weights_sha256", weightsSha256);
    json.put("weights_metadata", weightsMetadata);
    json.put("kernels", kernels); // partitions by the kernel that ran them on the executors
    json.put("writer", writer);
    json.put("spark_version", sparkVersion);
    json.put("master", master);
    json.put("output_path", outputPath);
    json.put("config", config);
    Map<String, Object> hooks = new LinkedHashMap<>();
    hookStatistics.forEach((where, dimensions) -> {
      Map<String, Object> stats = new LinkedHashMap<>();
      stats.put("type", "stats");
      stats.put("dimensions", dimensions.stream().map(DimensionStats::toMap).toList());
      hooks.put(where, stats);
    });
    json.put("hooks", hooks);
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write the run summary as JSON", e);
    }
  }

  /** A few lines for the terminal. */
  public String toText() {
    String invalid = invalidRowsTotal() == 0 ? "" : String.format("%n  invalid rows (%s): %s", invalidRowsPolicy,
        invalidRows.entrySet().stream().filter(e -> e.getValue() > 0).map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(", ")));
    return text() + kernelText() + invalid;
  }

  /** Which kernels ran, and what to do when some partitions ran the slow one. */
  private String kernelText() {
    if (kernels.isEmpty()) {
      return "";
    }
    String ran = kernels.entrySet().stream()
        .map(e -> String.format("%s (%,d partition%s)", e.getKey(), e.getValue(), e.getValue() == 1 ? "" : "s"))
        .collect(Collectors.joining(", "));
    String advice = kernels.containsKey("scalar")
        ? String.format("%n  note:    the scalar kernel is the slow one: its JVMs lacked --add-modules"
            + " jdk.incubator.vector (on a cluster, add it to spark.executor.extraJavaOptions), had vectors of fewer"
            + " than 4 floats, or were told -Dsparklinear.kernel=scalar")
        : "";
    return String.format("%n  kernel:  %s", ran) + advice;
  }

  private String text() {
    return String.format(
        "spark-linear: %,d rows in, %,d rows out, %,d blocks in %.2f s (%s)%n"
            + "  module:  %s%n  weights: %s%n  output:  %s%n  writer:  %s",
        rowsIn, rowsOut, blocks, wallSeconds, rateText(), module.replace("\n", "\n  "), weights, outputPath, writer);
  }
}
