package dev.sparklinear.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a fit did, for people (the printed summary) and for lineage ({@code OUTPUT/_spark_linear.json}): the rows
 * read and used, the mean loss and the time of every epoch, the module and where its initial parameters came from,
 * the SHA-256 of each checkpoint file, the Spark version and the resolved config.
 *
 * @param losses the mean loss over the valid rows at each epoch, before that epoch's optimizer step (what torch's
 *     {@code loss.item()} gives in the same loop)
 * @param epochSeconds the wall time of each epoch (a distributed forward and backward pass and the step)
 * @param readSeconds the time taken to read the input once into executor memory
 * @param checkpointSha256 the SHA-256 of each checkpoint file, by file name
 */
public record FitSummary(
    long rowsIn,
    long rowsUsed,
    int partitions,
    long blocks,
    String invalidRowsPolicy,
    Map<String, Long> invalidRows,
    String loss,
    String optimizer,
    String resumedFrom,
    List<Double> losses,
    List<Double> epochSeconds,
    double readSeconds,
    double wallSeconds,
    String module,
    String initialWeights,
    Map<String, String> initialWeightsSha256,
    Map<String, String> checkpointSha256,
    String sparkVersion,
    String master,
    String outputPath,
    Map<String, Object> config) {

  public FitSummary {
    invalidRows = Collections.unmodifiableMap(new LinkedHashMap<>(invalidRows));
    losses = List.copyOf(losses);
    epochSeconds = List.copyOf(epochSeconds);
    checkpointSha256 = Collections.unmodifiableMap(new LinkedHashMap<>(checkpointSha256));
  }

  public long invalidRowsTotal() {
    return invalidRows.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The loss at the last epoch. */
  public double finalLoss() {
    return losses.get(losses.size() - 1);
  }

  /** Pretty-printed JSON, keys in a fixed order. Losses are written with every digit of the double. */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("command", "fit");
    json.put("rows_in", rowsIn);
    json.put("rows_used", rowsUsed);
    json.put("partitions", partitions);
    json.put("blocks", blocks);
    Map<String, Object> invalid = new LinkedHashMap<>();
    invalid.put("policy", invalidRowsPolicy);
    invalid.put("total", invalidRowsTotal());
    invalid.put("by_reason", invalidRows);
    json.put("invalid_rows", invalid);
    Map<String, Object> fit = new LinkedHashMap<>();
    fit.put("loss", loss);
    fit.put("optimizer", optimizer);
    fit.put("epochs", losses.size());
    fit.put("resumed_from", resumedFrom);
    fit.put("losses", losses);
    fit.put("epoch_seconds", epochSeconds.stream().map(FitSummary::millis).toList());
    fit.put("read_seconds", millis(readSeconds));
    json.put("fit", fit);
    json.put("wall_seconds", millis(wallSeconds));
    json.put("module", module);
    json.put("initial_weights", initialWeights);
    json.put("initial_weights_sha256", initialWeightsSha256);
    json.put("checkpoint_sha256", checkpointSha256);
    json.put("spark_version", sparkVersion);
    json.put("master", master);
    json.put("output_path", outputPath);
    json.put("config", config);
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write the fit summary as JSON", e);
    }
  }

  private static double millis(double seconds) {
    return Math.round(seconds * 1000) / 1000.0;
  }

  /** A few lines for the terminal. */
  public String toText() {
    double epochs = epochSeconds.stream().mapToDouble(Double::doubleValue).sum();
    String invalid = invalidRowsTotal() == 0 ? "" : String.format("%n  invalid rows (%s): %s", invalidRowsPolicy,
        invalidRows.entrySet().stream().filter(e -> e.getValue() > 0).map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(", ")));
    return String.format(Locale.ROOT,
        "spark-linear fit: %,d rows in, %,d rows used, %d epochs in %.2f s (read %.2f s, %.3f s per epoch)%n"
            + "  loss:    %s %.6g -> %.6g%n  module:  %s%n  optimizer: %s%n  output:  %s",
        rowsIn, rowsUsed, losses.size(), wallSeconds, readSeconds, epochs / losses.size(), loss, losses.get(0),
        finalLoss(), module.replace("\n", "\n  "), optimizer, outputPath) + invalid;
  }
}
