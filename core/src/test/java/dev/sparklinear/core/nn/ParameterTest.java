package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ParameterTest {

  @Test
  void requiresGradByDefaultAsInPyTorch() {
    assertThat(new Parameter(Tensor.of(1f)).requiresGrad()).isTrue();
    assertThat(new Parameter(Tensor.of(1f), false).requiresGrad()).isFalse();
  }

  @Test
  void holdsTheTensorsValuesAndShape() {
    Tensor t = Tensor.of(new float[][] {{1, 2}, {3, 4}});
    Parameter p = new Parameter(t);
    assertThat(p.shape()).containsExactly(2, 2);
    assertThat(p.toArray()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void equalityIncludesRequiresGrad() {
    assertThat(new Parameter(Tensor.of(1f))).isEqualTo(new Parameter(Tensor.of(1f)));
    assertThat(new Parameter(Tensor.of(1f), true)).isNotEqualTo(new Parameter(Tensor.of(1f), false));
    assertThat(new Parameter(Tensor.of(1f))).isNotEqualTo(new Parameter(Tensor.of(2f)));
  }

  @Test
  void toStringReadsLikePyTorch() {
    assertThat(new Parameter(Tensor.of(1f, 2f))).hasToString("Parameter containing: tensor([1.0, 2.0], shape=[2])");
  }

  @Test
  void hasNoGradientUntilOneIsSet() {
    assertThat(new Parameter(Tensor.of(1f, 2f)).grad()).isNull();
  }

  @Test
  void accumulateGradCreatesTheGradientThenAddsIntoIt() {
    Parameter p = new Parameter(Tensor.of(new float[][] {{1, 2}, {3, 4}}));
    p.accumulateGrad(Tensor.of(new float[][] {{0.5f, -1}, {2, 0}}));
    assertThat(p.grad()).isEqualTo(Tensor.of(new float[][] {{0.5f, -1}, {2, 0}}));
    p.accumulateGrad(Tensor.of(new float[][] {{0.25f, 1}, {1, -3}}));
    assertThat(p.grad()).isEqualTo(Tensor.of(new float[][] {{0.75f, 0}, {3, -3}}));
  }

  @Test
  void accumulatesInFloat32AsTorchDoes() {
    Parameter p = new Parameter(Tensor.of(0f));
    p.accumulateGrad(Tensor.of(1f));
    p.accumulateGrad(Tensor.of(0x1p-25f)); // half an ulp of 1: lost in float32, kept in double
    assertThat(p.grad().get(0)).isEqualTo(1f);
  }

  @Test
  void gradIsACopy() {
    Parameter p = new Parameter(Tensor.of(1f));
    p.setGrad(Tensor.of(2f));
    Tensor before = p.grad();
    p.accumulateGrad(Tensor.of(3f));
    assertThat(before).isEqualTo(Tensor.of(2f));
    assertThat(p.grad()).isEqualTo(Tensor.of(5f));
  }

  @Test
  void setGradReplacesAndNullRemoves() {
    Parameter p = new Parameter(Tensor.of(1f, 2f));
    p.setGrad(Tensor.of(3f, 4f));
    p.setGrad(Tensor.of(5f, 6f));
    assertThat(p.grad()).isEqualTo(Tensor.of(5f, 6f));
    p.setGrad(null);
    assertThat(p.grad()).isNull();
  }

  @Test
  void rejectsAGradientOfAnotherShape() {
    Parameter p = new Parameter(Tensor.of(new float[][] {{1, 2}, {3, 4}}));
    assertThatThrownBy(() -> p.accumulateGrad(Tensor.of(1f, 2f, 3f, 4f)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("assigned grad has data of a different size: gradient of shape [4] for a parameter of shape [2, 2]");
    assertThatThrownBy(() -> p.setGrad(Tensor.of(1f)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("assigned grad has data of a different size");
    assertThat(p.grad()).isNull();
  }

  @Test
  void rejectsAnIntegerGradient() {
    Parameter p = new Parameter(Tensor.of(1f));
    assertThatThrownBy(() -> p.setGrad(Tensor.wrapLongs(new long[] {1}, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("assigned grad has data of a different type: INT64 for a FLOAT32 parameter");
  }

  @Test
  void frozenParameterTakesNoAccumulatedGradient() {
    Parameter p = new Parameter(Tensor.of(1f), false);
    assertThatThrownBy(() -> p.accumulateGrad(Tensor.of(1f)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("does not require grad (requires_grad=False)");
    assertThat(p.grad()).isNull();
  }

  @Test
  void setRequiresGradChangesTheFlagAndReturnsTheParameter() {
    Parameter p = new Parameter(Tensor.of(1f));
    assertThat(p.setRequiresGrad(false)).isSameAs(p);
    assertThat(p.requiresGrad()).isFalse();
    assertThat(p.setRequiresGrad(true).requiresGrad()).isTrue();
  }

  @Test
  void freezingKeepsAnExistingGradientAsTorchDoes() {
    Parameter p = new Parameter(Tensor.of(1f));
    p.accumulateGrad(Tensor.of(2f));
    p.setRequiresGrad(false);
    assertThat(p.grad()).isEqualTo(Tensor.of(2f));
  }

  @Test
  void zeroGradSetsToNoneOrFillsWithZeros() {
    Parameter p = new Parameter(Tensor.of(1f, 2f));
    p.accumulateGrad(Tensor.of(3f, 4f));
    p.zeroGrad(false);
    assertThat(p.grad()).isEqualTo(Tensor.of(0f, 0f));
    p.zeroGrad(true);
    assertThat(p.grad()).isNull();
    p.zeroGrad(false);
    assertThat(p.grad()).as("torch leaves a None gradient None").isNull();
  }

  @Test
  void concurrentAccumulationLosesNothing() throws InterruptedException {
    Parameter p = new Parameter(Tensor.of(0f, 0f));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    for (int i = 0; i < 4000; i++) {
      pool.execute(() -> p.accumulateGrad(Tensor.of(1f, 2f)));
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.grad()).isEqualTo(Tensor.of(4000f, 8000f));
  }

  @Test
  void serializationKeepsTheFlagAndDropsTheGradientAsTorchSaveDoes() throws IOException, ClassNotFoundException {
    Parameter p = new Parameter(Tensor.of(1f, 2f), false);
    p.setRequiresGrad(true).accumulateGrad(Tensor.of(3f, 4f));
    p.setRequiresGrad(false);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(p);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      Parameter copy = (Parameter) in.readObject();
      assertThat(copy).isEqualTo(p);
      assertThat(copy.requiresGrad()).isFalse();
      assertThat(copy.grad()).isNull();
    }
  }

  @Test
  void equalityIgnoresTheGradient() {
    Parameter p = new Parameter(Tensor.of(1f));
    p.accumulateGrad(Tensor.of(5f));
    assertThat(p).isEqualTo(new Parameter(Tensor.of(1f))).hasSameHashCodeAs(new Parameter(Tensor.of(1f)));
  }
}
