package dev.sparklinear.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.loss.MSELoss;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.GradientTape;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.tensor.Tensor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/** The README's training step, run as written and checked against the same step in plain double arithmetic. */
class TrainingStepExampleTest {
  @Test
  void oneSgdStepOnMseMovesTheWeightsAsTheFormulaSays() {
    float[][] w0 = {{0.5f, -0.25f}};
    float b0 = 0.1f;
    float[][] xs = {{1, 2}, {3, -1}, {0.5f, 0.5f}};
    float[][] targets = {{1}, {0}, {2}};
    double lr = 0.1;

    Linear fc = new Linear(2, 1);
    fc.setWeight(new Parameter(Tensor.of(w0)));
    fc.setBias(new Parameter(Tensor.of(new float[] {b0})));
    double lossValue;
    float[] dx;
    try (BufferAllocator allocator = new RootAllocator()) {
      // ---- the README example, as written there ----
      SGD sgd = new SGD(fc, SGD.options(0.1));
      MSELoss loss = new MSELoss();
      try (FloatBlock x = FloatBlock.copyOf(allocator, xs);
           FloatBlock target = FloatBlock.copyOf(allocator, targets);
           GradientTape tape = new GradientTape(allocator)) {
        tape.watch(x);                                              // x.requires_grad_()
        try (FloatBlock y = fc.call(x, CallContext.of(x).withTape(tape));
             FloatBlock dy = loss.backward(y, target)) {            // d loss / d y
          lossValue = loss.forward(y, target);
          sgd.zeroGrad();
          tape.backward(y, dy);                                     // loss.backward(): fc.weight().grad() is set
          sgd.step();                                               // p -= lr * grad
          dx = tape.inputGradient(x).toArray();                     // x.grad
        }
      }
      // ---- end of the example ----
    }

    // The same step in double: y = x w + b, L = mean((y - t)^2), dL/dy = 2 (y - t) / n.
    int n = xs.length;
    double[] dy = new double[n];
    double expectedLoss = 0;
    for (int r = 0; r < n; r++) {
      double y = xs[r][0] * (double) w0[0][0] + xs[r][1] * (double) w0[0][1] + b0;
      expectedLoss += (y - targets[r][0]) * (y - targets[r][0]) / n;
      dy[r] = 2 * (y - targets[r][0]) / n;
    }
    double[] dw = new double[2];
    double db = 0;
    for (int r = 0; r < n; r++) {
      dw[0] += dy[r] * xs[r][0];
      dw[1] += dy[r] * xs[r][1];
      db += dy[r];
    }
    assertThat(lossValue).isCloseTo(expectedLoss, within(1e-6));
    assertThat(fc.weight().get(0, 0)).isCloseTo((float) (w0[0][0] - lr * dw[0]), within(1e-6f));
    assertThat(fc.weight().get(0, 1)).isCloseTo((float) (w0[0][1] - lr * dw[1]), within(1e-6f));
    assertThat(fc.bias().orElseThrow().get(0)).isCloseTo((float) (b0 - lr * db), within(1e-6f));
    for (int r = 0; r < n; r++) {
      assertThat(dx[2 * r]).isCloseTo((float) (dy[r] * w0[0][0]), within(1e-6f));
      assertThat(dx[2 * r + 1]).isCloseTo((float) (dy[r] * w0[0][1]), within(1e-6f));
    }
  }
}
