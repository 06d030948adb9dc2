package dev.sparklinear.core.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.testing.TorchJson;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every loss, option and reduction against PyTorch 1.13's values from {@code torch-optim/losses.json}.
 *
 * <p><b>The rule.</b> Torch's float64 computation on the same float32 inputs stands for the exact value. Our loss is
 * computed in double, so it must be within torch's own float32 error of that value (plus 1e-12 relative, for the
 * sums' order). Our gradient is computed in double and rounded to float32: each element must be within twice torch's
 * float32 error on the same row plus four float32 ulps of the value (the rule of the module tests).
 */
class TorchLossParityTest {
  private static final JsonNode FIXTURES = TorchJson.read("/torch-optim/losses.json");

  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    FIXTURES.get("cases").forEach(c -> out.add(Arguments.of(c.get("name").textValue(), c)));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void lossIsWithinTorchsFloat32ErrorOfTheExactValue(String name, JsonNode c) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock output = FloatBlock.copyOf(allocator, TorchJson.floatRows(c.get("output")))) {
      double ours = withTarget(c, allocator, target -> loss(c).forward(output, target));
      double exact = c.get("loss64").doubleValue();
      double torchError = Math.abs(c.get("loss32").doubleValue() - exact);
      assertThat(ours).as("%s: torch float32 %s", name, c.get("loss32"))
          .isCloseTo(exact, offset(torchError + 1e-12 * Math.abs(exact)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void gradientIsNoWorseThanTorchs(String name, JsonNode c) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock output = FloatBlock.copyOf(allocator, TorchJson.floatRows(c.get("output")))) {
      float[][] ours = withTarget(c, allocator, target -> {
        try (FloatBlock gradient = loss(c).backward(output, target)) {
          return gradient.toRows();
        }
      });
      assertNoWorseThanTorch(name, ours, TorchJson.floatRows(c.get("grad32")), TorchJson.doubleRows(c.get("grad64")));
    }
  }

  /**
   * The distributed mean: two partitions' sums and gradients of the sum, added and divided by the global count, give
   * the loss and gradient of the whole block.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void partitionSumsAddUpToTheWholeBlocksLoss(String name, JsonNode c) {
    float[][] rows = TorchJson.floatRows(c.get("output"));
    int split = rows.length / 2 + 1;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock whole = FloatBlock.copyOf(allocator, rows);
        FloatBlock first = FloatBlock.copyOf(allocator, Arrays.copyOfRange(rows, 0, split));
        FloatBlock second = FloatBlock.copyOf(allocator, Arrays.copyOfRange(rows, split, rows.length));
        FloatBlock firstGradient = FloatBlock.allocate(allocator, first.rows(), first.cols());
        FloatBlock secondGradient = FloatBlock.allocate(allocator, second.rows(), second.cols())) {
      Loss<Object> loss = loss(c);
      Object wholeTarget = target(c, allocator, 0, rows.length);
      Object firstTarget = target(c, allocator, 0, split);
      Object secondTarget = target(c, allocator, split, rows.length);
      try {
        LossSum total = loss.sum(first, firstTarget).plus(loss.sum(second, secondTarget));
        double scale = loss.reduction() == Reduction.MEAN ? 1 / total.totalWeight() : 1;
        loss.sumAndGradient(first, firstTarget, scale, firstGradient);
        loss.sumAndGradient(second, secondTarget, scale, secondGradient);

        double expected = loss.forward(whole, wholeTarget);
        assertThat(total.reduce(loss.reduction())).isCloseTo(expected, offset(
            1e-14 * Math.abs(expected)));
        try (FloatBlock gradient = loss.backward(whole, wholeTarget)) {
          float[][] expectedRows = gradient.toRows();
          assertThat(firstGradient.toRows()).isDeepEqualTo(Arrays.copyOfRange(expectedRows, 0, split));
          assertThat(secondGradient.toRows())
              .isDeepEqualTo(Arrays.copyOfRange(expectedRows, split, rows.length));
        }
      } finally {
        closeBlocks(wholeTarget, firstTarget, secondTarget);
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Loss<Object> loss(JsonNode c) {
    JsonNode args = c.get("args");
    Reduction reduction = Reduction.of(args.get("reduction").textValue());
    float[] weight = args.has("weight") ? TorchJson.floats(args.get("weight")) : null;
    Loss<?> loss = switch (c.get("type").textValue()) {
      case "MSELoss" -> new MSELoss(reduction);
      case "BCEWithLogitsLoss" -> new BCEWithLogitsLoss(
          reduction, weight, args.has("pos_weight") ? TorchJson.floats(args.get("pos_weight")) : null);
      case "CrossEntropyLoss" -> new CrossEntropyLoss(reduction, weight,
          args.has("ignore_index") ? args.get("ignore_index").longValue() : CrossEntropyLoss.DEFAULT_IGNORE_INDEX,
          args.has("label_smoothing") ? args.get("label_smoothing").doubleValue() : 0);
      default -> throw new AssertionError(c.get("type"));
    };
    return (Loss<Object>) loss;
  }

  /** Rows {@code from .. to} of the case's target: a block (the caller closes it) or class indices. */
  private static Object target(JsonNode c, BufferAllocator allocator, int from, int to) {
    if (c.get("type").textValue().equals("CrossEntropyLoss")) {
      return Arrays.copyOfRange(TorchJson.longs(c.get("target")), from, to);
    }
    float[][] rows = TorchJson.floatRows(c.get("target"));
    return FloatBlock.copyOf(allocator, Arrays.copyOfRange(rows, from, to));
  }

  private static <R> R withTarget(JsonNode c, BufferAllocator allocator, Function<Object, R> fn) {
    Object target = target(c, allocator, 0, c.get("output").size());
    try {
      return fn.apply(target);
    } finally {
      closeBlocks(target);
    }
  }

  private static void closeBlocks(Object... targets) {
    for (Object target : targets) {
      if (target instanceof FloatBlock block) {
        block.close();
      }
    }
  }

  /** The rule of the class comment, row by row; reference values are finite in these fixtures. */
  static void assertNoWorseThanTorch(String what, float[][] ours, float[][] torch, double[][] reference) {
    assertThat(ours).as(what).hasNumberOfRows(reference.length);
    for (int r = 0; r < reference.length; r++) {
      double torchError = 0;
      for (int c = 0; c < reference[r].length; c++) {
        torchError = Math.max(torchError, Math.abs(torch[r][c] - reference[r][c]));
      }
      for (int c = 0; c < reference[r].length; c++) {
        double ref = reference[r][c];
        assertThat(Double.isFinite(ref)).as("%s row %d col %d is finite", what, r, c).isTrue();
        double bound = 2 * torchError + 4 * Math.ulp((float) ref);
        assertThat(Math.abs(ours[r][c] - ref))
            .as("%s row %d col %d: ours %s, torch %s, float64 %s", what, r, c, ours[r][c], torch[r][c], ref)
            .isLessThanOrEqualTo(bound);
      }
    }
  }
}
