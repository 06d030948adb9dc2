package dev.sparklinear.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TensorTest {

  @Test
  void matrixIsRowMajorWithShapeRowsByCols() {
    Tensor w = Tensor.of(new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}});
    assertThat(w.shape()).containsExactly(3, 4);
    assertThat(w.dim()).isEqualTo(2);
    assertThat(w.size(0)).isEqualTo(3);
    assertThat(w.size(1)).isEqualTo(4);
    assertThat(w.numel()).isEqualTo(12);
    assertThat(w.get(2, 1)).isEqualTo(4f);
    assertThat(w.get(5)).isEqualTo(3f);
    assertThat(w.toArray()).containsExactly(1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6);
  }

  @Test
  void isImmutable() {
    float[] values = {1, 2, 3, 4};
    float[][] rows = {{1, 2}, {3, 4}};
    Tensor copied = new Tensor(values, 2, 2);
    Tensor matrix = Tensor.of(rows);
    values[0] = 9;
    rows[0][0] = 9;
    copied.toArray()[1] = 9;
    copied.shape()[0] = 9;
    assertThat(copied.toArray()).containsExactly(1, 2, 3, 4);
    assertThat(copied.shape()).containsExactly(2, 2);
    assertThat(matrix.get(0, 0)).isEqualTo(1f);
  }

  @Test
  void rejectsValueCountThatDoesNotMatchShape() {
    assertThatThrownBy(() -> new Tensor(new float[5], 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid tensor: shape [2, 3] needs 6 values, got 5");
  }

  @Test
  void rejectsNegativeDimension() {
    assertThatThrownBy(() -> new Tensor(new float[0], -1, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid shape: [-1, 2] (dimensions must be >= 0)");
  }

  @Test
  void rejectsRaggedMatrix() {
    assertThatThrownBy(() -> Tensor.of(new float[][] {{1, 2}, {3}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid matrix: row 1 has 1 values, row 0 has 2");
  }

  @Test
  void equalityIsSameShapeAndSameBits() {
    assertThat(Tensor.of(1f, 2f)).isEqualTo(Tensor.of(1f, 2f)).hasSameHashCodeAs(Tensor.of(1f, 2f));
    assertThat(new Tensor(new float[] {1, 2}, 1, 2)).isNotEqualTo(Tensor.of(1f, 2f));
    assertThat(Tensor.of(0f)).isNotEqualTo(Tensor.of(-0f));
    assertThat(Tensor.of(Float.NaN)).isEqualTo(Tensor.of(Float.NaN));
    assertThat(Tensor.of(1f, 2f).sameShape(Tensor.of(5f, 6f))).isTrue();
  }

  @Test
  void shapeStringReadsLikePyTorchList() {
    assertThat(Tensor.of(new float[][] {{1, 2, 3}}).shapeString()).isEqualTo("[1, 3]");
    assertThat(Tensor.formatShape(3, 5)).isEqualTo("[3, 5]");
  }

  @Test
  void toStringShowsUpToEightValuesAndTheShape() {
    assertThat(Tensor.of(1f, 2f)).hasToString("tensor([1.0, 2.0], shape=[2])");
    assertThat(new Tensor(new float[9], 3, 3))
        .hasToString("tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, ...], shape=[3, 3])");
  }

  @Test
  void int64ScalarKeepsItsExactValueAndReadsAsFloatLikeTensorFloat() {
    long big = (1L << 53) + 1; // not representable as a double, let alone a float
    Tensor n = Tensor.ofLong(big);
    assertThat(n.dtype()).isEqualTo(Dtype.INT64);
    assertThat(n.shape()).isEmpty();
    assertThat(n.numel()).isEqualTo(1);
    assertThat(n.getLong(0)).isEqualTo(big);
    assertThat(n.toLongArray()).containsExactly(big);
    assertThat(n.get(0)).isEqualTo(0x1p53f);
    assertThat(n).hasToString("tensor([9007199254740993], shape=[], dtype=int64)");
  }

  @Test
  void int64AndFloat32TensorsOfEqualValuesAreNotEqual() {
    assertThat(Tensor.wrapLongs(new long[] {1, 2}, 2)).isNotEqualTo(Tensor.of(1f, 2f))
        .isEqualTo(Tensor.wrapLongs(new long[] {1, 2}, 2))
        .hasSameHashCodeAs(Tensor.wrapLongs(new long[] {1, 2}, 2));
    assertThat(Tensor.of(1f, 2f).dtype()).isEqualTo(Dtype.FLOAT32);
  }

  @Test
  void toConvertsAsTorchDoes() {
    Tensor floats = Tensor.of(2.9f, -2.9f);
    assertThat(floats.to(Dtype.FLOAT32)).isSameAs(floats);
    assertThat(floats.to(Dtype.INT64).toLongArray()).as("truncated toward zero, as tensor.long()").containsExactly(2, -2);
    assertThat(Tensor.ofLong(7).to(Dtype.FLOAT32)).isEqualTo(new Tensor(new float[] {7f}));
  }

  @Test
  void int64TensorChecksItsShape() {
    assertThatThrownBy(() -> Tensor.wrapLongs(new long[3], 2, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid tensor: shape [2, 2] needs 4 values, got 3");
  }
}
