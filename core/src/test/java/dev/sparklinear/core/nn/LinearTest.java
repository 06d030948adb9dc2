package dev.sparklinear.core.nn;

import static dev.sparklinear.core.testing.ReferenceAffine.assertWithinFloat32Bound;
import static dev.sparklinear.core.testing.ReferenceAffine.randomMatrix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.within;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.kernel.Epilogue;
import dev.sparklinear.core.kernel.LinearKernel;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinearTest {
  /** The seed example: {@code fc = nn.Linear(4, 3, bias=False); fc.weight = nn.Parameter(W); fc(x)}. */
  private static final float[][] SEED_WEIGHT = {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}};

  private LeakCheckingAllocator allocator;

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void closeAllocator() {
    assertThat(allocator.getAllocatedMemory()).as("bytes left allocated by the test").isZero();
    allocator.close();
  }

  private static Linear seedExample() {
    Linear fc = new Linear(4, 3, false);
    fc.setWeight(new Parameter(Tensor.of(SEED_WEIGHT)));
    return fc;
  }

  // ------------------------------------------------------------------------------------------------------ forward

  @Test
  void seedExampleGivesExactOutputForOneVector() {
    // 1*1 + 2*2 + 3*3 + 4*4 = 30, then 40 and 50: small integers, exact in float32.
    assertThat(seedExample().call(1, 2, 3, 4)).containsExactly(30, 40, 50);
  }

  @Test
  void seedExampleGivesExactOutputForBlock() {
    Linear fc = seedExample();
    try (FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1, 2, 3, 4}, {0, 0, 0, 0}, {1, 0, 0, -1}});
        FloatBlock y = fc.call(x)) {
      assertThat(y.rows()).isEqualTo(3);
      assertThat(y.cols()).isEqualTo(3);
      assertThat(y.toRows()).isDeepEqualTo(new float[][] {{30, 40, 50}, {0, 0, 0}, {-3, -3, -3}});
      assertThat(y.allocator()).as("the output comes from the input's allocator").isSameAs(allocator);
    }
  }

  @Test
  void biasIsAddedToEachOutput() {
    Linear fc = new Linear(4, 3, true);
    fc.setWeight(new Parameter(Tensor.of(SEED_WEIGHT)));
    fc.setBias(new Parameter(Tensor.of(0.5f, -1.25f, 2f)));
    float[] withBias = fc.call(1, 2, 3, 4);
    float[] withoutBias = seedExample().call(1, 2, 3, 4);
    assertThat(withBias).containsExactly(30.5f, 38.75f, 52f);
    for (int o = 0; o < 3; o++) {
      assertThat(withBias[o] - withoutBias[o]).isEqualTo(fc.bias().orElseThrow().get(o));
    }
  }

  @ParameterizedTest(name = "{0} -> {1}, bias={2}, {3} rows")
  @CsvSource({
      "4, 3, false, 1",
      "4, 3, true, 0",
      "4, 3, true, 5",
      "1, 1, true, 7",
      "7, 5, true, 3",
      "7, 5, false, 9",
      "33, 17, true, 65",
      "64, 16, false, 1",
      "100, 1, true, 13",
  })
  void blockForwardMatchesDoublePrecisionReference(int in, int out, boolean withBias, int rows) {
    Linear fc = new Linear(in, out, withBias, 1000L * in + out);
    float[][] weight = toMatrix(fc.weight());
    float[] bias = withBias ? fc.bias().orElseThrow().toArray() : null;
    float[][] x = randomMatrix(new SplittableRandom(rows), rows, in, 2);

    try (FloatBlock input = block(x, rows, in);
        FloatBlock output = fc.call(input)) {
      assertThat(output.rows()).isEqualTo(rows);
      assertThat(output.cols()).isEqualTo(out);
      assertWithinFloat32Bound(output.toRows(), x, weight, bias, 1.0);
    }
  }

  @Test
  void kernelNameSaysWhichKernelComputes() {
    // The test JVM is started with --add-modules jdk.incubator.vector and no kernel property.
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
    assertThat(System.getProperty("sparklinear.kernel")).isNull();
    assertThat(new Linear(64, 16, true, 1).kernelName()).isEqualTo("vector");
  }

  @Test
  void newWeightIsUsedByTheNextCall() {
    Linear fc = seedExample();
    assertThat(fc.call(1, 2, 3, 4)).containsExactly(30, 40, 50);
    fc.setWeight(new Parameter(Tensor.of(new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 0, 1}})));
    assertThat(fc.call(1, 2, 3, 4)).containsExactly(1, 2, 4);
  }

  @Test
  void rejectsVectorOfWrongLengthWithPyTorchMessage() {
    Linear fc = seedExample();
    assertThatThrownBy(() -> fc.call(1, 2, 3, 4, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("mat1 and mat2 shapes cannot be multiplied (1x5 and 4x3)");
  }

  @Test
  void rejectsBlockOfWrongWidthWithPyTorchMessage() {
    Linear fc = seedExample();
    try (FloatBlock x = FloatBlock.allocate(allocator, 7, 5)) {
      assertThatThrownBy(() -> fc.call(x))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("mat1 and mat2 shapes cannot be multiplied (7x5 and 4x3)");
    }
  }

  // ------------------------------------------------------------------------------------------------- construction

  @Test
  void rejectsInvalidInFeatures() {
    assertThatThrownBy(() -> new Linear(-3, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid in_features: -3 (must be > 0)");
    assertThatThrownBy(() -> new Linear(0, 3, false, 1L))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid in_features: 0 (must be > 0)");
  }

  @Test
  void rejectsInvalidOutFeatures() {
    assertThatThrownBy(() -> new Linear(4, -2, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid out_features: -2 (must be > 0)");
    assertThatThrownBy(() -> new Linear(4, 0, true, 1L))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid out_features: 0 (must be > 0)");
  }

  @Test
  void rejectsWeightOfMoreThanIntMaxValues() {
    assertThatThrownBy(() -> new Linear(65536, 65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid size: in_features * out_features = 4294967296 (must be < 2^31)");
  }

  @Test
  void toStringReadsLikePyTorch() {
    assertThat(new Linear(4, 3)).hasToString("Linear(in_features=4, out_features=3, bias=True)");
    assertThat(new Linear(4, 3, false)).hasToString("Linear(in_features=4, out_features=3, bias=False)");
  }

  @Test
  void exposesSizesAndParameterShapes() {
    Linear fc = new Linear(4, 3);
    assertThat(fc.inFeatures()).isEqualTo(4);
    assertThat(fc.outFeatures()).isEqualTo(3);
    assertThat(fc.hasBias()).isTrue();
    assertThat(fc.weight().shape()).as("weight is [out_features, in_features]").containsExactly(3, 4);
    assertThat(fc.bias().orElseThrow().shape()).containsExactly(3);
    assertThat(fc.weight().requiresGrad()).isTrue();
  }

  @Test
  void layerWithoutBiasHasNoBiasParameter() {
    Linear fc = new Linear(4, 3, false);
    assertThat(fc.hasBias()).isFalse();
    assertThat(fc.bias()).isEmpty();
    assertThat(fc.parameter("bias")).isNull();
    assertThat(fc.stateDict()).containsOnlyKeys("weight");
    assertThat(fc.namedParameters()).containsOnlyKeys("weight");
  }

  @Test
  void setWeightRejectsWrongShapeNamingBothShapes() {
    Linear fc = seedExample();
    Parameter transposed = new Parameter(Tensor.of(new float[][] {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {1, 1, 1}}));
    assertThatThrownBy(() -> fc.setWeight(transposed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot assign a parameter of shape [4, 3] to 'weight' of "
            + "Linear(in_features=4, out_features=3, bias=False): expected shape [3, 4]");
    assertThat(fc.call(1, 2, 3, 4)).as("a rejected weight changes nothing").containsExactly(30, 40, 50);
  }

  @Test
  void setBiasRejectsWrongShape() {
    Linear fc = new Linear(4, 3);
    assertThatThrownBy(() -> fc.setBias(new Parameter(Tensor.of(1f, 2f))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot assign a parameter of shape [2] to 'bias' of "
            + "Linear(in_features=4, out_features=3, bias=True): expected shape [3]");
  }

  @Test
  void setBiasIsRejectedOnLayerWithoutBias() {
    Linear fc = new Linear(4, 3, false);
    assertThatThrownBy(() -> fc.setBias(new Parameter(Tensor.of(1f, 2f, 3f))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Cannot assign a bias to Linear(in_features=4, out_features=3, bias=False): "
            + "the layer was built without one (use bias=true)");
    assertThat(fc.bias()).isEmpty();
  }

  // ------------------------------------------------------------------------------------------------ initialisation

  @Test
  void initialValuesLieWithinOneOverSqrtInFeatures() {
    for (int in : new int[] {1, 3, 4, 33, 100}) {
      Linear fc = new Linear(in, 7, true, in);
      // The bound rounded to float: a value drawn below the bound in double cannot round above it.
      float bound = (float) (1 / Math.sqrt(in));
      assertThat(maxAbs(fc.weight())).as("largest |weight| for in_features=%d", in).isLessThanOrEqualTo(bound);
      assertThat(maxAbs(fc.bias().orElseThrow())).as("largest |bias| for in_features=%d", in)
          .isLessThanOrEqualTo(bound);
    }
  }

  @Test
  void sameSeedGivesIdenticalParameters() {
    assertThat(new Linear(33, 17, true, 42L).stateDict()).isEqualTo(new Linear(33, 17, true, 42L).stateDict());
  }

  @Test
  void differentSeedsGiveDifferentParameters() {
    Linear a = new Linear(33, 17, true, 42L);
    Linear b = new Linear(33, 17, true, 43L);
    assertThat(a.weight()).isNotEqualTo(b.weight());
    assertThat(a.bias()).isNotEqualTo(b.bias());
  }

  @Test
  void resetParametersWithSameSeedRestoresTheInitialValues() {
    Linear fc = new Linear(5, 4, true, 7L);
    Linear expected = new Linear(5, 4, true, 7L);
    fc.resetParameters(8L);
    assertThat(fc.stateDict()).isNotEqualTo(expected.stateDict());
    fc.resetParameters(7L);
    assertThat(fc.stateDict()).isEqualTo(expected.stateDict());
  }

  @Test
  void manualSeedMakesUnseededConstructionRepeatable() {
    Init.manualSeed(1234L);
    Linear first = new Linear(6, 5);
    Linear second = new Linear(6, 5);
    Init.manualSeed(1234L);
    Linear firstAgain = new Linear(6, 5);
    Linear secondAgain = new Linear(6, 5);

    assertThat(firstAgain.stateDict()).isEqualTo(first.stateDict());
    assertThat(secondAgain.stateDict()).isEqualTo(second.stateDict());
    assertThat(second.stateDict()).as("consecutive layers draw different seeds").isNotEqualTo(first.stateDict());
  }

  @Test
  void weightVarianceOfLargeLayerIsOneThirdOverInFeatures() {
    int in = 512;
    float[] w = new Linear(in, 512, false, 99L).weight().toArray();
    int n = w.length;
    double sum = 0;
    double sumSquares = 0;
    for (float v : w) {
      sum += v;
      sumSquares += (double) v * v;
    }
    double mean = sum / n;
    double variance = (sumSquares - n * mean * mean) / (n - 1);

    // Uniform on [-b, b) with b = 1/sqrt(in): variance sigma^2 = b^2/3 = 1/(3 in), fourth central moment b^4/5.
    // The sample variance of n draws has standard error sqrt((mu4 - sigma^4) / n) = sigma^2 sqrt(0.8 / n), which is
    // 0.175% of sigma^2 for n = 262144. A 1% tolerance is more than 5 standard errors: it does not fail by chance, yet
    // it catches a wrong bound (PyTorch's Kaiming-normal default, or a missing sqrt, is off by tens of percent).
    double expected = 1.0 / (3 * in);
    assertThat(variance).isCloseTo(expected, within(0.01 * expected));
    // The mean's standard error is sigma / sqrt(n) = 4.9e-5 here; allow 5 of them.
    assertThat(mean).isCloseTo(0.0, offset(5 * Math.sqrt(expected / n)));
  }

  // ------------------------------------------------------------------------------------------------------ precision

  @Test
  void compensatedPrecisionComputesWithTheCompensatedKernelUntilSetBack() {
    Linear fc = new Linear(64, 16, true, 5L);
    SplittableRandom random = new SplittableRandom(8);
    float[][] x = randomMatrix(random, 9, 64, 3);
    LinearKernel expectedKernel = LinearKernels.create(fc.weight(), fc.bias().orElseThrow(),
        LinearKernels.Precision.COMPENSATED);
    assertThat(fc.precision()).isEqualTo(LinearKernels.Precision.FLOAT32);
    String float32Kernel = fc.kernelName();

    assertThat(fc.setPrecision(LinearKernels.Precision.COMPENSATED)).isSameAs(fc);

    assertThat(fc.precision()).isEqualTo(LinearKernels.Precision.COMPENSATED);
    assertThat(fc.kernelName()).isEqualTo("compensated");
    try (FloatBlock xb = FloatBlock.copyOf(allocator, x);
        FloatBlock expected = FloatBlock.allocate(allocator, 9, 16);
        FloatBlock y = fc.call(xb)) {
      expectedKernel.apply(xb, expected);
      assertThat(y.toArray()).containsExactly(expected.toArray());
    }
    fc.setPrecision(LinearKernels.Precision.FLOAT32);
    assertThat(fc.kernelName()).isEqualTo(float32Kernel);
    assertThatThrownBy(() -> fc.setPrecision(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void compensatedLayersOfATreeComputeWithTheCompensatedKernelFusedWithTheirActivation() {
    Linear first = new Linear(33, 20, true, 1L);
    Linear second = new Linear(20, 3, true, 2L);
    Sequential tree = new Sequential(first, new ReLU(), second);
    tree.apply(module -> {
      if (module instanceof Linear linear) {
        linear.setPrecision(LinearKernels.Precision.COMPENSATED);
      }
    });
    float[][] x = randomMatrix(new SplittableRandom(3), 11, 33, 2);
    LinearKernel firstKernel = LinearKernels.create(first.weight(), first.bias().orElseThrow(),
        LinearKernels.Precision.COMPENSATED);
    LinearKernel secondKernel = LinearKernels.create(second.weight(), second.bias().orElseThrow(),
        LinearKernels.Precision.COMPENSATED);

    try (FloatBlock xb = FloatBlock.copyOf(allocator, x);
        FloatBlock hidden = FloatBlock.allocate(allocator, 11, 20);
        FloatBlock expected = FloatBlock.allocate(allocator, 11, 3);
        FloatBlock y = tree.call(xb)) {
      firstKernel.apply(xb, hidden, Epilogue.RELU);
      secondKernel.apply(hidden, expected);
      assertThat(y.toArray()).containsExactly(expected.toArray());
    }
    assertThat(first.kernelName()).isEqualTo("compensated");
    assertThat(second.kernelName()).isEqualTo("compensated");
  }

  @Test
  void javaSerializationKeepsThePrecision() throws Exception {
    Linear fc = new Linear(7, 5, true, 3L).setPrecision(LinearKernels.Precision.COMPENSATED);
    float[] input = {1, -2, 3, -4, 5, -6, 7};

    Linear copy = roundTrip(fc);

    assertThat(copy.precision()).isEqualTo(LinearKernels.Precision.COMPENSATED);
    assertThat(copy.kernelName()).isEqualTo("compensated");
    assertThat(copy.call(input)).containsExactly(fc.call(input));
    assertThat(roundTrip(new Linear(7, 5, true, 3L)).precision()).isEqualTo(LinearKernels.Precision.FLOAT32);
  }

  // -------------------------------------------------------------------------------------------------- serialization

  @Test
  void javaSerializationKeepsParametersAndOutput() throws Exception {
    Linear fc = new Linear(7, 5, true, 3L);
    fc.eval();
    float[] input = {1, -2, 3, -4, 5, -6, 7};
    float[] before = fc.call(input);

    Linear copy = roundTrip(fc);

    assertThat(copy).isNotSameAs(fc);
    assertThat(copy.stateDict()).isEqualTo(fc.stateDict());
    assertThat(copy.isTraining()).isFalse();
    assertThat(copy).hasToString(fc.toString());
    assertThat(copy.call(input)).as("same parameters, same kernel: the same bits").containsExactly(before);
  }

  @Test
  void javaSerializationCarriesSerializableHooksInOrder() throws Exception {
    Linear fc = seedExample();
    fc.registerForwardHook(new AddToOutput(1f));
    fc.registerForwardHook(new AddToOutput(10f), HookOption.PREPEND, HookOption.ALWAYS_CALL);
    fc.registerForwardPreHook(new ScaleInput(2f));

    Linear copy = roundTrip(fc);
    // Input doubled: [60, 80, 100]; then +10 (prepended) and +1.
    assertThat(copy.call(1, 2, 3, 4)).containsExactly(71, 91, 111);
    assertThat(copy.call(1, 2, 3, 4)).containsExactly(fc.call(1, 2, 3, 4));
  }

  @Test
  void javaSerializationRefusesAHookThatIsNotSerializable() {
    Linear fc = seedExample();
    AtomicInteger calls = new AtomicInteger();
    fc.registerForwardHook((module, in, out, ctx) -> {
      calls.incrementAndGet();
      return null;
    });
    assertThatThrownBy(() -> roundTrip(fc))
        .isInstanceOf(java.io.NotSerializableException.class)
        .hasMessageContaining("The forward hook ")
        .hasMessageContaining("registered on Linear is not Serializable")
        .hasMessageContaining("implement java.io.Serializable");
  }

  /** Adds a constant to every output value, in place. */
  private record AddToOutput(float value) implements ForwardHook, java.io.Serializable {
    @Override
    public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
      for (int r = 0; r < output.rows(); r++) {
        for (int c = 0; c < output.cols(); c++) {
          output.set(r, c, output.get(r, c) + value);
        }
      }
      return output;
    }
  }

  /** Replaces the input with a scaled copy taken from the call's allocator. */
  private record ScaleInput(float factor) implements ForwardPreHook, java.io.Serializable {
    @Override
    public FloatBlock apply(Module module, FloatBlock input, CallContext context) {
      float[] values = input.toArray();
      for (int i = 0; i < values.length; i++) {
        values[i] *= factor;
      }
      return FloatBlock.copyOf(context.allocator(), values, input.rows(), input.cols());
    }
  }

  private static Linear roundTrip(Linear fc) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(fc);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (Linear) in.readObject();
    }
  }

  private static float maxAbs(Tensor t) {
    float max = 0;
    for (float v : t.toArray()) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  private static float[][] toMatrix(Tensor t) {
    float[][] m = new float[t.size(0)][t.size(1)];
    for (int r = 0; r < m.length; r++) {
      for (int c = 0; c < m[r].length; c++) {
        m[r][c] = t.get(r, c);
      }
    }
    return m;
  }

  private FloatBlock block(float[][] x, int rows, int cols) {
    float[] flat = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x[r], 0, flat, r * cols, cols);
    }
    return FloatBlock.copyOf(allocator, flat, rows, cols);
  }
}
