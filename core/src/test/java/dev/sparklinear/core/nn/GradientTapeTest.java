package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link GradientTape}: accumulation, frozen parameters, ownership of blocks, failures and saliency. */
class GradientTapeTest {
  private static final float[][] X = {{1, 2}, {-3, 0.5f}, {0.25f, -1}};

  /** {@code Linear(2, 2)} with weight {@code [[1, 2], [3, -1]]} and bias {@code [0.5, -0.5]}. */
  private static Linear linear() {
    Linear fc = new Linear(2, 2, true, 1L);
    fc.loadStateDict(java.util.Map.of("weight", Tensor.of(new float[][] {{1, 2}, {3, -1}}),
        "bias", Tensor.of(0.5f, -0.5f)), true);
    return fc;
  }

  /** Runs {@code module} on X under a tape with an upstream gradient of ones; returns x's gradient when watched. */
  private static float[][] backward(Module module, boolean watch) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator)) {
      if (watch) {
        tape.watch(x);
      }
      try (FloatBlock y = module.call(x, CallContext.of(x).withTape(tape));
          FloatBlock ones = FloatBlock.copyOf(allocator, filled(y.rows(), y.cols(), 1f))) {
        tape.backward(y, ones);
      }
      return watch ? tape.inputGradient(x).toRows() : null;
    }
  }

  private static float[][] filled(int rows, int cols, float value) {
    float[][] out = new float[rows][cols];
    for (float[] row : out) {
      java.util.Arrays.fill(row, value);
    }
    return out;
  }

  @Test
  void linearGradientsAreTheHandComputedOnes() {
    Linear fc = linear();
    float[][] dx = backward(fc, true);
    // dW[o][i] = sum_r x[r][i] (the upstream gradient is ones); db[o] = rows; dx[r] = column sums of W.
    assertThat(fc.weight().grad()).isEqualTo(Tensor.of(new float[][] {{-1.75f, 1.5f}, {-1.75f, 1.5f}}));
    assertThat(fc.bias().get().grad()).isEqualTo(Tensor.of(3f, 3f));
    assertThat(dx).isDeepEqualTo(new float[][] {{4, 1}, {4, 1}, {4, 1}});
  }

  @Test
  void parameterGradientsAccumulateAcrossBackwardPassesUntilZeroGrad() {
    Linear fc = linear();
    backward(fc, false);
    backward(fc, false);
    assertThat(fc.weight().grad()).isEqualTo(Tensor.of(new float[][] {{-3.5f, 3f}, {-3.5f, 3f}}));
    assertThat(fc.bias().get().grad()).isEqualTo(Tensor.of(6f, 6f));
    fc.zeroGrad(false);
    assertThat(fc.weight().grad()).isEqualTo(Tensor.of(new float[][] {{0, 0}, {0, 0}}));
    backward(fc, false);
    assertThat(fc.bias().get().grad()).isEqualTo(Tensor.of(3f, 3f));
    fc.zeroGrad();
    assertThat(fc.weight().grad()).isNull();
  }

  @Test
  void frozenLayersGetNoGradientAndKeepNothing() {
    Linear first = linear();
    Linear second = linear();
    Sequential net = new Sequential(first, new ReLU(), second);
    first.requiresGrad(false);
    List<String> ran = new ArrayList<>();
    first.registerFullBackwardPreHook((m, g) -> {
      ran.add("first");
      return null;
    });
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator)) {
      CallContext context = CallContext.of(x).withTape(tape);
      try (FloatBlock hidden = first.call(x, context)) {
        assertThat(tape.requiresGrad(hidden)).isFalse();
        assertThat(tape.keptValues()).as("nothing kept for a backward pass").isZero();
      }
      try (FloatBlock hidden = second.call(x, context)) {
        assertThat(tape.keptValues()).as("a trainable layer's input, as float32; its float64 output not yet computed")
            .isEqualTo(X.length * 2L);
        try (FloatBlock activated = new ReLU().call(hidden, context)) {
          assertThat(tape.keptValues()).as("then the layer's float64 output, which ReLU reads, and ReLU's")
              .isEqualTo(X.length * (2L + 2L + 2L));
        }
      }
      try (FloatBlock y = net.call(x, context); FloatBlock ones = FloatBlock.copyOf(allocator, filled(3, 2, 1f))) {
        tape.backward(y, ones);
      }
    }
    assertThat(first.weight().grad()).isNull();
    assertThat(first.bias().get().grad()).isNull();
    assertThat(second.weight().grad()).isNotNull();
    assertThat(ran).as("no gradient reaches a frozen layer whose input does not require grad").isEmpty();
  }

  @Test
  void aCallWithoutTapeRecordsNothing() {
    Linear fc = linear();
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator);
        FloatBlock y = fc.call(x)) {
      assertThatThrownBy(() -> tape.backward(y, y))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("element 0 of tensors does not require grad and does not have a grad_fn");
    }
  }

  @Test
  void aSecondBackwardIsRefusedAsInTorch() {
    Linear fc = linear();
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator);
        FloatBlock y = fc.call(x, CallContext.of(x).withTape(tape))) {
      tape.backward(y, y);
      assertThatThrownBy(() -> tape.backward(y, y))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("Trying to backward through the graph a second time");
    }
  }

  @Test
  void aGradientOfAnotherShapeIsRefused() {
    Linear fc = linear();
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        FloatBlock wrong = FloatBlock.allocate(allocator, 2, 2);
        GradientTape tape = new GradientTape(allocator);
        FloatBlock y = fc.call(x, CallContext.of(x).withTape(tape))) {
      assertThatThrownBy(() -> tape.backward(y, wrong))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Mismatch in shape: gradOutput has a shape of [2, 2] and output has a shape of [3, 2]");
    }
  }

  @Test
  void aFailingHookIsReportedWithTheModuleAndItsNameAndLeaksNothing() {
    Linear fc = linear();
    Sequential net = new Sequential(new ReLU(), fc);
    fc.registerFullBackwardHook((m, gi, go) -> {
      throw new IllegalStateException("boom");
    });
    assertThatThrownBy(() -> backward(net, true))
        .isInstanceOf(BackwardHookException.class)
        .hasMessage("backward hook of Linear(in_features=2, out_features=2, bias=True) at '1' failed: "
            + "java.lang.IllegalStateException: boom")
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void aHookReturningAGradientOfTheWrongShapeIsRefused() {
    Linear fc = linear();
    fc.registerFullBackwardPreHook((m, g) -> FloatBlock.allocate(g.allocator(), 1, 1));
    assertThatThrownBy(() -> backward(fc, true))
        .isInstanceOf(BackwardHookException.class)
        .hasMessage("backward pre-hook of Linear(in_features=2, out_features=2, bias=True) (the root module) returned"
            + " a gradient of shape [1, 1], expected [3, 2]");
  }

  @Test
  void aHookOnAModuleWhoseInputDoesNotRequireGradMustReturnNull() {
    Linear fc = linear();
    fc.registerFullBackwardHook((m, gi, go) -> FloatBlock.allocate(go.allocator(), 3, 2));
    assertThatThrownBy(() -> backward(fc, false))
        .isInstanceOf(BackwardHookException.class)
        .hasMessageContaining("Backward hook for Modules where no input requires gradient should always return None");
  }

  @Test
  void removedBackwardHooksDoNotRun() {
    Linear fc = linear();
    List<String> ran = new ArrayList<>();
    RemovableHandle pre = fc.registerFullBackwardPreHook((m, g) -> {
      ran.add("pre");
      return null;
    });
    try (RemovableHandle global = Module.registerGlobalFullBackwardHook((m, gi, go) -> {
      ran.add("global");
      return null;
    })) {
      backward(fc, true);
      pre.remove();
      pre.remove();
    }
    backward(fc, true);
    assertThat(ran).containsExactly("pre", "global");
  }

  @Test
  void saliencyIsEachRowsGradientOfOneOutput() {
    Sequential net = new Sequential(linear(), new Tanh());
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        FloatBlock saliency = GradientTape.saliency(net, x, 1)) {
      for (int r = 0; r < X.length; r++) {
        // y1 = tanh(3 x0 - x1 - 0.5): d y1 / dx = (1 - y1^2) [3, -1]
        double y1 = Math.tanh(3.0 * X[r][0] - X[r][1] - 0.5);
        double d = 1 - y1 * y1;
        assertThat(saliency.get(r, 0)).isCloseTo((float) (3 * d), org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(saliency.get(r, 1)).isCloseTo((float) -d, org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
    assertThat(net.namedParameters().values()).allSatisfy(p -> assertThat(p.grad()).as("saliency changes no .grad").isNull());
  }

  @Test
  void aForwardHookCanAskForTheSaliencyOfItsOutput() {
    Sequential net = new Sequential(linear(), new Sigmoid());
    List<float[]> seen = new ArrayList<>();
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator)) {
      tape.watch(x);
      net.get(1).registerForwardHook((module, input, output, context) -> {
        try (FloatBlock saliency = context.tape().inputGradient(output, 0, x)) {
          seen.add(saliency.row(0));
        }
        return null;
      });
      try (FloatBlock y = net.call(x, CallContext.of(x).withTape(tape))) {
        // y0 = sigmoid(x0 + 2 x1 + 0.5): d y0 / dx = y0 (1 - y0) [1, 2]
        double y0 = 1 / (1 + Math.exp(-(X[0][0] + 2.0 * X[0][1] + 0.5)));
        double d = y0 * (1 - y0);
        assertThat(seen.get(0)[0]).isCloseTo((float) d, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(seen.get(0)[1]).isCloseTo((float) (2 * d), org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(y.rows()).isEqualTo(3);
      }
    }
  }

  @Test
  void aLinearFollowedByAnActivationIsNotFusedWhileRecordingAndGivesTheSameOutput() {
    Sequential net = new Sequential(linear(), new GELU());
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock x = FloatBlock.copyOf(allocator, X);
        GradientTape tape = new GradientTape(allocator);
        FloatBlock fused = net.call(x);
        FloatBlock recorded = net.call(x, CallContext.of(x).withTape(tape))) {
      assertThat(recorded.toRows()).isDeepEqualTo(fused.toRows());
      assertThat(tape.requiresGrad(recorded)).isTrue();
    }
  }

  @Test
  void aSharedLayerAccumulatesBothUses() {
    Linear shared = new Linear(2, 2, false, 3L);
    shared.loadStateDict(java.util.Map.of("weight", Tensor.of(new float[][] {{1, 0}, {0, 1}})), true);
    Sequential net = new Sequential(shared, shared);
    backward(net, false);
    // y = x W^T W^T with W = I: dW = g^T (x W^T) + (g W)^T x = 2 * column sums of x in each row
    assertThat(shared.weight().grad()).isEqualTo(Tensor.of(new float[][] {{-3.5f, 3f}, {-3.5f, 3f}}));
  }

  @Test
  void aBackwardHookThatChangesTheGradientInPlaceIsHeeded() {
    Linear first = linear();
    Linear second = linear();
    Sequential net = new Sequential(first, second);
    float[][] plainInput = backward(net, true);
    Tensor plainWeight = first.weight().grad();
    net.zeroGrad();
    second.registerFullBackwardHook((module, gradInput, gradOutput) -> {
      float[] doubled = gradInput.toArray();
      for (int i = 0; i < doubled.length; i++) {
        doubled[i] *= 2;
      }
      gradInput.writeRows(0, gradInput.rows(), doubled, 0);
      return null; // changed in place, as a torch hook may do with grad_input
    });
    float[][] doubledInput = backward(net, true);
    float[] expected = plainWeight.toArray();
    for (int i = 0; i < expected.length; i++) {
      expected[i] *= 2;
    }
    assertThat(first.weight().grad().toArray()).containsExactly(expected);
    for (int r = 0; r < plainInput.length; r++) {
      for (int c = 0; c < plainInput[r].length; c++) {
        assertThat(doubledInput[r][c]).isEqualTo(2 * plainInput[r][c]);
      }
    }
  }
}
