package dev.sparklinear.core.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.HookOption;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import dev.sparklinear.core.testing.ReferenceAffine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Block hooks registered on a {@link Linear}, as pre-hooks and as forward hooks, and carried by serialization. */
class BlockHookTest {
  private static final float[][] W = {{1f, -2f, 0.5f}, {-1f, 1f, 1f}};
  private static final float[] B = {0.25f, -4f};

  private static Linear linear() {
    Linear fc = new Linear(3, 2, true);
    fc.setWeight(new Parameter(Tensor.of(W)));
    fc.setBias(new Parameter(Tensor.of(B)));
    return fc;
  }

  private static float[][] call(Module module, float[][] x) {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock input = FloatBlock.copyOf(allocator, x);
        FloatBlock output = module.call(input)) {
      return output.toRows();
    }
  }

  @Test
  void preHookStandardizesInputsBeforeTheLayer() {
    float[] mean = {1f, 2f, 3f};
    float[] std = {2f, 4f, 0.5f};
    float[][] x = ReferenceAffine.randomMatrix(new SplittableRandom(11), 20, 3, 6);
    float[][] standardized = new float[x.length][3];
    for (int r = 0; r < x.length; r++) {
      for (int c = 0; c < 3; c++) {
        standardized[r][c] = (x[r][c] - mean[c]) / std[c];
      }
    }
    Linear fc = linear();
    fc.registerForwardPreHook(new Standardize(mean, std));
    ReferenceAffine.assertWithinFloat32Bound(call(fc, x), standardized, W, B, 2);
  }

  @Test
  void forwardHooksRunInOrderOnTheOutputs() {
    float[][] x = ReferenceAffine.randomMatrix(new SplittableRandom(12), 20, 3, 6);
    double[][] affine = ReferenceAffine.forward(x, W, B);
    Linear fc = linear();
    fc.registerForwardHook(new Relu());
    fc.registerForwardHook(Clamp.atMost(3f));
    float[][] y = call(fc, x);
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < 2; o++) {
        double expected = Math.min(3, Math.max(0, affine[r][o]));
        assertThat((double) y[r][o]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
      }
    }
  }

  @Test
  void preHookFailureLeavesNoMemoryBehind() {
    Linear fc = linear();
    fc.registerForwardPreHook(NanGuard.fail());
    assertThatThrownBy(() -> call(fc, new float[][] {{1f, Float.NaN, 0f}}))
        .isInstanceOf(NonFiniteValueException.class)
        .hasMessageStartingWith("Non-finite value NaN in the module's inputs at row 0 of the block, column 1.");
  }

  @Test
  void alwaysCalledBlockHookIgnoresMissingOutput() {
    Linear fc = linear();
    fc.registerForwardPreHook(NanGuard.fail());
    fc.registerForwardHook(new Relu(), HookOption.ALWAYS_CALL);
    assertThatThrownBy(() -> call(fc, new float[][] {{Float.NaN, 0f, 0f}}))
        .isInstanceOf(NonFiniteValueException.class)
        .satisfies(e -> assertThat(e.getSuppressed()).isEmpty());
  }

  @Test
  void hooksTravelWithTheSerializedModule() throws IOException, ClassNotFoundException {
    Linear fc = linear();
    fc.registerForwardPreHook(new Standardize(new float[] {1f, 1f, 1f}, new float[] {2f, 2f, 2f}));
    fc.registerForwardHook(new Softmax());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(fc);
    }
    Module copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (Module) in.readObject();
    }
    float[][] x = {{3f, -1f, 5f}, {1f, 1f, 1f}};
    assertThat(call(copy, x)).isDeepEqualTo(call(fc, x));
    // ((3,-1,5) - 1) / 2 = (1, -1, 2): y = (1*1 + -2*-1 + 0.5*2 + 0.25, -1 - 1 + 2 - 4) = (4.25, -4); softmax of that.
    double e = Math.exp(-4 - 4.25);
    assertThat((double) call(copy, x)[0][0]).isCloseTo(1 / (1 + e), org.assertj.core.data.Offset.offset(1e-7));
  }
}
