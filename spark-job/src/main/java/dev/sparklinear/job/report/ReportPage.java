package dev.sparklinear.job.report;

import dev.sparklinear.job.FitSummary;
import dev.sparklinear.job.RunSummary;
import dev.sparklinear.spark.hooks.DimensionStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Renders {@code _report.html}: the run summary as a table and one histogram per output dimension (the first
 * {@link #MAX_PLOTS}), drawn with XChart and embedded as PNG data, so the page needs nothing beside it.
 */
public final class ReportPage {
  /** File name of the report in the output folder. */
  public static final String FILE_NAME = "_report.html";

  /** More plots than this make a page nobody reads; the table still lists every dimension. */
  public static final int MAX_PLOTS = 32;

  private ReportPage() {}

  /** The page for {@code summary}, with the histograms of the run's first stats hook. */
  public static String render(RunSummary summary) {
    List<DimensionStats> histograms = summary.hookStatistics().values().stream().findFirst().orElse(List.of());
    return render(summary, histograms);
  }

  static String render(RunSummary summary, List<DimensionStats> histograms) {
    System.setProperty("java.awt.headless", "true");
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>spark-linear run report</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
        .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f3f3}")
        .append(".plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0}")
        .append("figcaption{font-size:90%;color:#555}\n</style>\n</head>\n<body>\n")
        .append("<h1>spark-linear run report</h1>\n<h2>Summary</h2>\n<table>\n");
    row(html, "Rows in", String.format(Locale.ROOT, "%,d", summary.rowsIn()));
    row(html, "Rows out", String.format(Locale.ROOT, "%,d", summary.rowsOut()));
    row(html, "Blocks", String.format(Locale.ROOT, "%,d", summary.blocks()));
    row(html, "Wall time", String.format(Locale.ROOT, "%.2f s", summary.wallSeconds()));
    row(html, "Rows per second", summary.rateText().replace(" rows/s", ""));
    row(html, "Module", summary.module());
    row(html, "Weights", summary.weights());
    summary.weightsSha256().forEach((file, sha) -> row(html, "SHA-256 of " + file, sha));
    row(html, "Spark", summary.sparkVersion() + " (" + summary.master() + ")");
    row(html, "Output", summary.outputPath());
    html.append("</table>\n");

    if (!histograms.isEmpty()) {
      html.append("<h2>Output dimensions</h2>\n<table>\n<tr><th>dimension</th><th>count</th><th>NaN/Inf</th>")
          .append("<th>mean</th><th>min</th><th>max</th></tr>\n");
      for (DimensionStats h : histograms) {
        html.append(String.format(Locale.ROOT,
            "<tr><td>%d</td><td>%,d</td><td>%,d</td><td>%.6g</td><td>%.6g</td><td>%.6g</td></tr>%n",
            h.dimension(), h.count(), h.nanCount(), h.mean(), h.min(), h.max()));
      }
      html.append("</table>\n<div class=\"plots\">\n");
      for (DimensionStats h : histograms.subList(0, Math.min(MAX_PLOTS, histograms.size()))) {
        html.append("<figure><img alt=\"histogram of output ").append(h.dimension())
            .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(plot(h)))
            .append("\"><figcaption>output[").append(h.dimension()).append("]: ")
            .append(String.format(Locale.ROOT, "%,d below %.4g, %,d at or above %.4g", h.underflow(), h.histogramMin(),
                h.overflow(), h.histogramMax()))
            .append("</figcaption></figure>\n");
      }
      html.append("</div>\n");
      if (histograms.size() > MAX_PLOTS) {
        html.append("<p>Plots of the first ").append(MAX_PLOTS).append(" of ").append(histograms.size())
            .append(" dimensions.</p>\n");
      }
    }
    return html.append("</body>\n</html>\n").toString();
  }

  /**
   * The page for a fit: its summary, the loss curve (the mean loss at each epoch, on a log scale when it spans more
   * than a factor of ten and stays positive) and the losses and times per epoch as a table.
   */
  public static String render(FitSummary summary) {
    System.setProperty("java.awt.headless", "true");
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>spark-linear fit report</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
        .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f3f3}")
        .append("\n</style>\n</head>\n<body>\n")
        .append("<h1>spark-linear fit report</h1>\n<h2>Summary</h2>\n<table>\n");
    row(html, "Rows in", String.format(Locale.ROOT, "%,d", summary.rowsIn()));
    row(html, "Rows used", String.format(Locale.ROOT, "%,d", summary.rowsUsed()));
    row(html, "Invalid rows", String.format(Locale.ROOT, "%,d (%s)", summary.invalidRowsTotal(),
        summary.invalidRowsPolicy()));
    row(html, "Loss", summary.loss());
    row(html, "Optimizer", summary.optimizer());
    row(html, "Epochs", String.valueOf(summary.losses().size()));
    row(html, "Final loss", String.format(Locale.ROOT, "%.8g", summary.finalLoss()));
    row(html, "Wall time", String.format(Locale.ROOT, "%.2f s (reading %.2f s)", summary.wallSeconds(),
        summary.readSeconds()));
    row(html, "Module", summary.module());
    row(html, "Initial weights", summary.initialWeights());
    summary.checkpointSha256().forEach((file, sha) -> row(html, "SHA-256 of " + file, sha));
    row(html, "Spark", summary.sparkVersion() + " (" + summary.master() + ")");
    row(html, "Output", summary.outputPath());
    html.append("</table>\n<h2>Loss</h2>\n<figure><img alt=\"mean loss per epoch\" src=\"data:image/png;base64,")
        .append(Base64.getEncoder().encodeToString(lossCurve(summary.losses()))).append("\"></figure>\n")
        .append("<table>\n<tr><th>epoch</th><th>mean loss</th><th>seconds</th></tr>\n");
    for (int i = 0; i < summary.losses().size(); i++) {
      html.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.10g</td><td>%.3f</td></tr>%n", i + 1,
          summary.losses().get(i), summary.epochSeconds().get(i)));
    }
    return html.append("</table>\n</body>\n</html>\n").toString();
  }

  /** The mean loss per epoch as a line chart, PNG bytes. */
  static byte[] lossCurve(List<Double> losses) {
    XYChart chart = new XYChartBuilder().width(640).height(360).title("mean loss per epoch").xAxisTitle("epoch")
        .yAxisTitle("loss").build();
    chart.getStyler().setLegendVisible(false);
    double min = losses.stream().mapToDouble(Double::doubleValue).min().orElse(1);
    double max = losses.stream().mapToDouble(Double::doubleValue).max().orElse(1);
    chart.getStyler().setYAxisLogarithmic(min > 0 && max / min > 10);
    List<Integer> epochs = new ArrayList<>();
    for (int i = 1; i <= losses.size(); i++) {
      epochs.add(i);
    }
    chart.addSeries("loss", epochs, losses).setMarker(SeriesMarkers.NONE);
    chart.getStyler().setXAxisTickMarkSpacingHint(80);
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot draw the loss curve", e);
    }
  }

  /** One histogram as PNG bytes. */
  static byte[] plot(DimensionStats h) {
    CategoryChart chart = new CategoryChartBuilder().width(360).height(240)
        .title("output[" + h.dimension() + "]").xAxisTitle("value").yAxisTitle("rows").build();
    Styler styler = chart.getStyler();
    styler.setLegendVisible(false);
    chart.getStyler().setXAxisLabelRotation(0);
    chart.getStyler().setAvailableSpaceFill(0.95);
    chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(12f));
    long[] bins = h.bins();
    List<String> labels = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    double width = (h.histogramMax() - h.histogramMin()) / bins.length;
    for (int i = 0; i < bins.length; i++) {
      // A label every few bins keeps the axis readable.
      labels.add(i % Math.max(1, bins.length / 5) == 0 ? String.format(Locale.ROOT, "%.3g", h.histogramMin() + i * width)
          : " ".repeat(i));
      counts.add(bins[i]);
    }
    chart.addSeries("rows", labels, counts);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setyAxisTickLabelsFormattingFunction(ReportPage::countLabel);
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot draw the histogram of output " + h.dimension(), e);
    }
  }

  /**
   * A tick label of the row-count axis: counts are whole rows, and XChart may tick every 0.5 or 2.5 over a small range,
   * so a tick between whole numbers gets no label rather than a fraction of a row.
   */
  static String countLabel(double ticks) {
    return ticks == Math.rint(ticks) ? String.format(Locale.ROOT, "%,d", (long) ticks) : "";
  }

  private static void row(StringBuilder html, String name, String value) {
    html.append("<tr><th>").append(escape(name)).append("</th><td>").append(escape(value)).append("</td></tr>\n");
  }

  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
