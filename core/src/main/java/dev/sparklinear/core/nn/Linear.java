package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.kernel.Epilogue;
import dev.sparklinear.core.kernel.Float64Linear;
import dev.sparklinear.core.kernel.LinearKernel;
import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.tensor.Tensor;
import org.apache.arrow.memory.BufferAllocator;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Applies an affine map to each row, as PyTorch's {@code nn.Linear}: {@code y = x W^T + b}.
 *
 * <ul>
 *   <li>input: a block {@code [n, in_features]} (or one vector of {@code in_features});
 *   <li>output: a block {@code [n, out_features]};
 *   <li>{@code weight}: {@code [out_features, in_features]}, so each output's weights form one row;
 *   <li>{@code bias}: {@code [out_features]}, or absent when built with {@code bias = false} (then there is no bias
 *       parameter at all, not a zero vector).
 * </ul>
 *
 * <p>Initialised as PyTorch does: weight and bias uniform in {@code +-1/sqrt(in_features)} (Kaiming-uniform with
 * {@code a = sqrt(5)}), from an explicit seed or the next seed of {@link Init}.
 *
 * <pre>{@code
 * Linear fc = new Linear(4, 3, false);
 * fc.setWeight(new Parameter(Tensor.of(new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}})));
 * float[] y = fc.call(1, 2, 3, 4);  // [30.0, 40.0, 50.0]
 * }</pre>
 *
 * <p>Backward (see {@link GradientTape}): {@code dX = dY W}, {@code dW += dY^T X} and {@code db += sum_r dY} through
 * {@link Float64Linear}, in float64 from the tape's float64 activations, into the parameters that require grad. The
 * input is kept for the backward pass only while the weight requires grad.
 *
 * <p><b>Precision.</b> {@link #setPrecision} picks how exactly the float32 forward pass is computed:
 * {@link LinearKernels.Precision#FLOAT32} (the default; the vector or scalar kernel) or
 * {@link LinearKernels.Precision#COMPENSATED} (outputs within about half an ulp of the exact value, at several times
 * the cost; see {@link LinearKernels.Precision}). The precision travels with the layer when it is serialized; the
 * float64 pass under a gradient tape is the same whatever it is.
 */
public class Linear extends Module {
  private static final long serialVersionUID = 1L;

  private final int inFeatures;
  private final int outFeatures;
  /** Packed from the current weight and bias on first use; dropped when they change. Rebuilt after deserialization. */
  private transient volatile LinearKernel kernel;
  /** Null in a layer serialized before precisions existed: read as {@link LinearKernels.Precision#FLOAT32}. */
  private volatile LinearKernels.Precision precision = LinearKernels.Precision.FLOAT32;

  /** A layer with a bias, initialised from the JVM-wide seed sequence. */
  public Linear(int inFeatures, int outFeatures) {
    this(inFeatures, outFeatures, true);
  }

  /** A layer initialised from the JVM-wide seed sequence ({@link Init#manualSeed}). */
  public Linear(int inFeatures, int outFeatures, boolean bias) {
    this(inFeatures, outFeatures, bias, validated(inFeatures, outFeatures) ? Init.nextSeed() : 0);
  }

  /** A layer initialised from {@code seed}: the same seed gives the same parameters. */
  public Linear(int inFeatures, int outFeatures, boolean bias, long seed) {
    validated(inFeatures, outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    registerParameter("weight", Parameter.wrap(new float[outFeatures * inFeatures], new int[] {outFeatures, inFeatures}, true));
    if (bias) {
      registerParameter("bias", Parameter.wrap(new float[outFeatures], new int[] {outFeatures}, true));
    }
    resetParameters(seed);
  }

  private static boolean validated(int inFeatures, int outFeatures) {
    if (inFeatures <= 0) {
      throw new IllegalArgumentException("Invalid in_features: " + inFeatures + " (must be > 0)");
    }
    if (outFeatures <= 0) {
      throw new IllegalArgumentException("Invalid out_features: " + outFeatures + " (must be > 0)");
    }
    if ((long) inFeatures * outFeatures > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Invalid size: in_features * out_features = " + (long) inFeatures * outFeatures + " (must be < 2^31)");
    }
    return true;
  }

  /**
   * Reinitialises weight and bias from {@code seed}, as PyTorch's {@code reset_parameters()}: weight
   * Kaiming-uniform with {@code a = sqrt(5)}, bias uniform in {@code +-1/sqrt(in_features)}.
   */
  public final void resetParameters(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] weightShape = {outFeatures, inFeatures};
    replaceParameter("weight", Parameter.wrap(
        Init.kaimingUniform(random, outFeatures * inFeatures, inFeatures, Math.sqrt(5)), weightShape, true));
    if (hasBias()) {
      double bound = 1 / Math.sqrt(inFeatures);
      replaceParameter("bias", Parameter.wrap(Init.uniform(random, outFeatures, bound), new int[] {outFeatures}, true));
    }
  }

  public final int inFeatures() {
    return inFeatures;
  }

  public final int outFeatures() {
    return outFeatures;
  }

  public final boolean hasBias() {
    return parameter("bias") != null;
  }

  /** The weight, {@code [out_features, in_features]}. */
  public final Parameter weight() {
    return parameter("weight");
  }

  /** The bias, {@code [out_features]}; empty for a layer built without one. */
  public final Optional<Parameter> bias() {
    return Optional.ofNullable(parameter("bias"));
  }

  /** Replaces the weight, as {@code fc.weight = nn.Parameter(w)}; {@code weight} must be {@code [out, in]}. */
  public final void setWeight(Parameter weight) {
    replaceParameter("weight", weight);
  }

  /** Replaces the bias; {@code bias} must be {@code [out]}, and the layer must have been built with a bias. */
  public final void setBias(Parameter bias) {
    if (!hasBias()) {
      throw new IllegalArgumentException(
          "Cannot assign a bias to " + this + ": the layer was built without one (use bias=true)");
    }
    replaceParameter("bias", bias);
  }

  /** How exactly the float32 forward pass is computed: {@link LinearKernels.Precision#FLOAT32} unless set. */
  public final LinearKernels.Precision precision() {
    LinearKernels.Precision p = precision;
    return p == null ? LinearKernels.Precision.FLOAT32 : p;
  }

  /**
   * Sets how exactly the float32 forward pass is computed (see {@link LinearKernels.Precision}); the next call uses a
   * kernel of that precision. Does not change the parameters, the state dict or the float64 pass of a gradient tape.
   *
   * @return this layer
   */
  public final Linear setPrecision(LinearKernels.Precision precision) {
    if (precision == null) {
      throw new NullPointerException("precision");
    }
    if (precision != precision()) {
      this.precision = precision;
      kernel = null;
    }
    return this;
  }

  @Override
  protected final void onParametersChanged() {
    kernel = null;
  }

  @Override
  final int savedForBackward() {
    return weight().requiresGrad() ? SAVES_INPUT : 0;
  }

  @Override
  final Float64Block forward64(Float64Block input) {
    return forward64(input, weight(), parameter("bias"));
  }

  /** The product is deferred with today's weight and bias (tensors are immutable; an update replaces them). */
  @Override
  final Supplier<Float64Block> forward64Deferred(Float64Block input) {
    Tensor weight = weight();
    Tensor bias = parameter("bias");
    return () -> forward64(input, weight, bias);
  }

  private Float64Block forward64(Float64Block input, Tensor weight, Tensor bias) {
    // An input kept as float32 (the tape's own input) is widened a chunk of rows at a time, not as a whole copy.
    double[] y = input.floats() != null
        ? Float64Linear.forward(input.floats(), input.rows(), weight, bias)
        : Float64Linear.forward(input.values(), input.rows(), weight, bias);
    return new Float64Block(y, input.rows(), outFeatures);
  }

  @Override
  final Float64Block backward(Float64Block input, Float64Block output, Float64Block gradOutput,
      boolean inputNeedsGrad, GradientSink gradients) {
    Parameter weight = weight();
    int rows = gradOutput.rows();
    if (gradients != null) {
      if (weight.requiresGrad() && input != null) { // null when the weight was frozen when the call was recorded
        double[] sum = gradients.sumFor(weight);
        if (input.floats() != null) {
          Float64Linear.addWeightGradient(gradOutput.values(), input.floats(), rows, outFeatures, inFeatures, sum);
        } else {
          Float64Linear.addWeightGradient(gradOutput.values(), input.values(), rows, outFeatures, inFeatures, sum);
        }
        gradients.added(weight, sum);
      }
      Parameter bias = parameter("bias");
      if (bias != null && bias.requiresGrad()) {
        double[] sum = gradients.sumFor(bias);
        Float64Linear.addBiasGradient(gradOutput.values(), rows, outFeatures, sum);
        gradients.added(bias, sum);
      }
    }
    if (!inputNeedsGrad) {
      return null;
    }
    return new Float64Block(Float64Linear.inputGradient(gradOutput.values(), rows, weight), rows, inFeatures);
  }

  /**
   * PyTorch's message for an input of {@code rows x cols} given to a layer {@code in_features -> out_features}:
   * {@code mat1 and mat2 shapes cannot be multiplied (1x5 and 4x3)}. Every place that finds a width mismatch (a block
   * here, a row or a column list in the job) words it through this method, so PyTorch users recognise it.
   */
  public static String shapeMismatch(long rows, long cols, int inFeatures, int outFeatures) {
    return "mat1 and mat2 shapes cannot be multiplied (" + rows + "x" + cols + " and " + inFeatures + "x"
        + outFeatures + ")";
  }

  /**
   * {@code x W^T + b} for a block {@code [n, in_features]}.
   *
   * @throws IllegalArgumentException worded as PyTorch's, when {@code input} does not have {@code in_features} columns
   */
  @Override
  protected FloatBlock forward(FloatBlock input, CallContext context) {
    return forward(input, context, null);
  }

  /** {@code epilogue(x W^T + b)}: the kernel applies {@code epilogue} (when not null) to each tile before storing it. */
  private FloatBlock forward(FloatBlock input, CallContext context, Epilogue epilogue) {
    if (input.cols() != inFeatures) {
      throw new IllegalArgumentException(shapeMismatch(input.rows(), input.cols(), inFeatures, outFeatures));
    }
    LinearKernel k = kernel();
    return context.allocateAndWrite(input.rows(), outFeatures, output -> k.apply(input, output, epilogue));
  }

  /**
   * Runs this layer and {@code activation}, which follows it in a {@link Sequential}, in one pass: the kernel applies
   * the activation to its output tiles before storing them, and the activation's own pass and block are skipped.
   * The result is bit for bit what {@code activation.call(call(input))} gives: the activation sees the same float32
   * values. Returns null, having run nothing, when a hook could see the block between the two (see
   * {@link Module#callFused}), or when this is a subclass, whose {@code forward} may differ.
   */
  final FloatBlock callActivated(ElementwiseModule activation, FloatBlock input, CallContext context) {
    if (getClass() != Linear.class) {
      return null;
    }
    Epilogue epilogue = activation.epilogue();
    return callFused(activation, input, context, (x, c) -> forward(x, c, epilogue));
  }

  /**
   * The {@link LinearKernel#name()} of the kernel this layer computes with in this JVM: {@code "vector"} or
   * {@code "scalar"} (see {@link LinearKernels}), or {@code "compensated"} with that {@link #precision()}.
   */
  public String kernelName() {
    return kernel().name();
  }

  private LinearKernel kernel() {
    LinearKernel k = kernel;
    if (k == null) {
      // Racing threads may each pack once; both results are equal, and the last one stays.
      k = LinearKernels.create(weight(), parameter("bias"), precision());
      kernel = k;
    }
    return k;
  }

  @Override
  protected String extraRepr() {
    return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + TorchRepr.bool(hasBias());
  }
}
