package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.junit.jupiter.api.Test;

/**
 * Constructor arguments, validation, messages and modes of the modules that trees are made of. Outputs are checked
 * against PyTorch in {@link TorchModulesParityTest}; messages here are PyTorch 1.13's where it has one.
 */
class ActivationAndNormModulesTest {

  private static void assertRefuses(Module module, int cols, Class<? extends RuntimeException> type, String message) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.allocate(allocator, 2, cols)) {
      assertThatThrownBy(() -> module.call(x)).isInstanceOf(type).hasMessage(message);
    }
  }

  @Test
  void layerNormRefusesAnInputOfAnotherWidthInTorchsWords() {
    assertRefuses(new LayerNorm(32), 16, IllegalArgumentException.class,
        "Given normalized_shape=[32], expected input with shape [*, 32], but got input of size[2, 16]");
  }

  @Test
  void layerNormInitialisesAsTorchAndMayLeaveOutItsBias() {
    LayerNorm norm = new LayerNorm(3);
    assertThat(norm.weight().orElseThrow().toArray()).containsExactly(1, 1, 1);
    assertThat(norm.bias().orElseThrow().toArray()).containsExactly(0, 0, 0);
    assertThat(new LayerNorm(3, 1e-5, true, false).stateDict().keySet()).containsExactly("weight");
    assertThat(new LayerNorm(3, 1e-6, false).stateDict()).isEmpty();
    assertThatThrownBy(() -> new LayerNorm(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid normalized_shape: 0 (must be > 0)");
  }

  @Test
  void batchNormRefusesAnInputOfAnotherWidthInTorchsWords() {
    BatchNorm1d bn = new BatchNorm1d(32);
    bn.eval();
    assertRefuses(bn, 16, IllegalArgumentException.class, "running_mean should contain 16 elements not 32");
  }

  @Test
  void batchNormRunsInEvaluationModeOnly() {
    assertRefuses(new BatchNorm1d(4), 4, UnsupportedOperationException.class,
        "BatchNorm1d in training mode is not supported yet; call eval()");
    BatchNorm1d batchStatistics = new BatchNorm1d(4, 1e-5, 0.1, true, false);
    batchStatistics.eval();
    assertRefuses(batchStatistics, 4, UnsupportedOperationException.class, "BatchNorm1d with track_running_stats="
        + "False normalizes each batch with its own statistics, which is not supported yet; use a layer with running"
        + " statistics");
  }

  @Test
  void dropoutIsTheIdentityInEvaluationModeAndRefusesTrainingMode() {
    Dropout dropout = new Dropout(0.2);
    assertRefuses(dropout, 3, UnsupportedOperationException.class,
        "Dropout in training mode is not supported yet; call eval()");
    dropout.eval();
    assertThat(dropout.call(1, -2, 3)).containsExactly(1, -2, 3);
    assertThat(new Dropout(0).call(4, 5)).as("p = 0 is the identity in either mode").containsExactly(4, 5);
  }

  @Test
  void dropoutRefusesAProbabilityOutsideZeroToOneInTorchsWords() {
    assertThatThrownBy(() -> new Dropout(1.5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dropout probability has to be between 0 and 1, but got 1.5");
    assertThatThrownBy(() -> new Dropout(Double.NaN)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dropout probability has to be between 0 and 1, but got nan");
  }

  @Test
  void softmaxTakesTheLastDimensionOnly() {
    assertThat(new Softmax(1)).hasToString("Softmax(dim=1)");
    assertThatThrownBy(() -> new Softmax(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Softmax over dim=0 runs across the rows of a block, which is not supported: blocks are [rows,"
            + " features]; use dim=-1 (or 1) for a softmax over each row's features");
    assertThatThrownBy(() -> new Softmax(2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  }

  @Test
  void geluTakesNoneOrTanh() {
    assertThat(new GELU("tanh").approximate()).isEqualTo("tanh");
    assertThatThrownBy(() -> new GELU("erf")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("approximate argument must be either none or tanh.");
  }

  @Test
  void inplaceShowsInTheReprButNeverChangesTheInput() {
    ReLU relu = new ReLU(true);
    assertThat(relu).hasToString("ReLU(inplace=True)");
    assertThat(new SiLU(true)).hasToString("SiLU(inplace=True)");
    assertThat(new Dropout(0.5, true)).hasToString("Dropout(p=0.5, inplace=True)");
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.ofRow(allocator, -1, 2);
        FloatBlock y = relu.call(x)) {
      assertThat(y.row(0)).containsExactly(0, 2);
      assertThat(x.row(0)).containsExactly(-1, 2);
    }
  }

  @Test
  void reprsWriteNumbersAsPython() {
    assertThat(new BatchNorm1d(8, 1e-3, null, false, true))
        .hasToString("BatchNorm1d(8, eps=0.001, momentum=None, affine=False, track_running_stats=True)");
    assertThat(new LayerNorm(4, 1e-12, true)).hasToString("LayerNorm((4,), eps=1e-12, elementwise_affine=True)");
    assertThat(TorchRepr.number(1e-5)).isEqualTo("1e-05");
    assertThat(TorchRepr.number(0.0001)).isEqualTo("0.0001");
    assertThat(TorchRepr.number(1.5e-7)).isEqualTo("1.5e-07");
    assertThat(TorchRepr.number(2)).isEqualTo("2.0");
    assertThat(TorchRepr.number(1e16)).isEqualTo("1e+16");
    assertThat(TorchRepr.number(123456789012345.6)).isEqualTo("123456789012345.6");
    assertThat(TorchRepr.number(-0.25)).isEqualTo("-0.25");
    assertThat(TorchRepr.number(-0.0)).isEqualTo("-0.0");
    assertThat(TorchRepr.number(Double.POSITIVE_INFINITY)).isEqualTo("inf");
  }

  @Test
  void layerNormKeepsTheVarianceOfRowsFarFromZeroAndOfARowStartingWithAnOutlier() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(9);
    int cols = 64;
    float[][] rows = new float[4][cols];
    for (int c = 0; c < cols; c++) {
      rows[0][c] = (float) (1e4 + random.nextDouble() * 1e-2); // mean large next to the spread
      rows[1][c] = (float) (random.nextDouble() * 1e-3); // the first value an outlier, the others close to 0
      rows[2][c] = 7.25f; // constant: variance 0, so the output is the bias
      rows[3][c] = (float) (random.nextDouble() * 2 - 1);
    }
    rows[1][0] = 1e6f;
    LayerNorm norm = new LayerNorm(cols);
    norm.loadStateDict(java.util.Map.of(
        "weight", dev.sparklinear.core.tensor.Tensor.wrap(ramp(cols, 0.5f, 0.01f), cols),
        "bias", dev.sparklinear.core.tensor.Tensor.wrap(ramp(cols, -0.25f, 0.02f), cols)), true);
    float[] weight = norm.weight().orElseThrow().toArray();
    float[] bias = norm.bias().orElseThrow().toArray();
    float[][] actual;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, rows);
        FloatBlock y = norm.call(x)) {
      actual = y.toRows();
    }
    for (int r = 0; r < rows.length; r++) {
      // Two-pass reference in double: the mean first, then the squared deviations from it.
      double mean = 0;
      for (float v : rows[r]) {
        mean += v;
      }
      mean /= cols;
      double squares = 0;
      for (float v : rows[r]) {
        squares += (v - mean) * (v - mean);
      }
      double inverseStd = 1 / Math.sqrt(squares / cols + 1e-5);
      for (int c = 0; c < cols; c++) {
        double expected = (rows[r][c] - mean) * inverseStd * weight[c] + bias[c];
        assertThat((double) actual[r][c]).as("row %d, column %d", r, c)
            .isCloseTo(expected, org.assertj.core.data.Offset.offset(2 * Math.ulp((float) expected) + 1e-7));
      }
    }
  }

  private static float[] ramp(int count, float start, float step) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = start + i * step;
    }
    return values;
  }
}
