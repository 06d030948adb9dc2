package dev.sparklinear.job.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.job.RunSummary;
import dev.sparklinear.spark.hooks.DimensionStats;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ReportPageTest {
  private static RunSummary summary() {
    return new RunSummary(1000, 1000, 3, 2.5, "Linear(in_features=4, out_features=3, bias=True)", "w.safetensors",
        Map.of("w.safetensors", "ab12"), Map.of(), "4.2.0", "local[2]", "out/x", Map.of("module.in-features", 4),
        Map.of(), "error", Map.of(), Map.of(), "spark");
  }

  private static DimensionStats histogram(int dimension) {
    long[] bins = new long[20];
    for (int i = 0; i < bins.length; i++) {
      bins[i] = 10 + i * (20 - i);
    }
    return new DimensionStats(dimension, 1000, 2, 0.5, -3, 4, -10, 10, bins, 1, 0);
  }

  @Test
  void pageHasTheSummaryTableAndOneDecodablePlotPerDimension() throws Exception {
    List<DimensionStats> histograms = new ArrayList<>();
    for (int j = 0; j < 3; j++) {
      histograms.add(histogram(j));
    }
    String html = ReportPage.render(summary(), histograms);

    assertThat(html).startsWith("<!DOCTYPE html>").contains("<th>Rows in</th><td>1,000</td>")
        .contains("Linear(in_features=4, out_features=3, bias=True)").contains("<th>SHA-256 of w.safetensors</th>");
    Matcher images = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
    int decoded = 0;
    while (images.find()) {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(images.group(1))));
      assertThat(image).isNotNull();
      assertThat(image.getWidth()).isEqualTo(360);
      assertThat(image.getHeight()).isEqualTo(240);
      decoded++;
    }
    assertThat(decoded).isEqualTo(3);
  }

  @Test
  void plotsAreCappedButEveryDimensionIsListed() {
    List<DimensionStats> histograms = new ArrayList<>();
    for (int j = 0; j < ReportPage.MAX_PLOTS + 3; j++) {
      histograms.add(histogram(j));
    }
    String html = ReportPage.render(summary(), histograms);
    assertThat(Pattern.compile("data:image/png").matcher(html).results().count()).isEqualTo(ReportPage.MAX_PLOTS);
    assertThat(Pattern.compile("<tr><td>\\d+</td>").matcher(html).results().count())
        .isEqualTo(ReportPage.MAX_PLOTS + 3);
  }

  @Test
  void escapesTextThatLooksLikeMarkup() {
    assertThat(ReportPage.escape("<a & \"b\">")).isEqualTo("&lt;a &amp; &quot;b&quot;&gt;");
  }

  @Test
  void rowCountTicksAreWholeRows() {
    assertThat(ReportPage.countLabel(0)).isEqualTo("0");
    assertThat(ReportPage.countLabel(3)).isEqualTo("3");
    assertThat(ReportPage.countLabel(1_234_567)).isEqualTo("1,234,567");
    assertThat(ReportPage.countLabel(2.5)).isEmpty();
    assertThat(ReportPage.countLabel(0.5)).isEmpty();
  }
}
