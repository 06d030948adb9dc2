package dev.sparklinear.core.kernel;

import dev.sparklinear.core.tensor.Tensor;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the kernel for a weight: the one place that knows which kernels exist.
 *
 * <p>The Vector API kernel is used when the JVM was started with {@code --add-modules jdk.incubator.vector} (Spark's own
 * JVM flags add it) and its preferred vector holds at least {@value #MIN_VECTOR_LANES} floats; otherwise the portable
 * scalar kernel. The system property {@value #KERNEL_PROPERTY} ({@code auto}, the default, {@code scalar} or
 * {@code vector}) forces one, for tests and benchmarks:
 *
 * <pre>{@code
 * java -Dsparklinear.kernel=scalar ...   // always the portable kernel
 * LinearKernels.create(weight, bias, LinearKernels.Choice.SCALAR).name();  // "scalar"
 * }</pre>
 *
 * <p>A {@link Precision} asks for how exact the outputs are: {@link Precision#FLOAT32} (the default) is the kernel
 * above; {@link Precision#COMPENSATED} is the compensated kernel ({@code Dot2}, see {@code CompensatedLinearKernel}),
 * whatever the system property says:
 *
 * <pre>{@code
 * LinearKernels.create(weight, bias, LinearKernels.Precision.COMPENSATED).name();  // "compensated"
 * }</pre>
 */
public final class LinearKernels {
  /** The system property that forces a kernel: {@code auto} (default), {@code scalar} or {@code vector}. */
  public static final String KERNEL_PROPERTY = "sparklinear.kernel";

  /** Below this many lanes the vector kernel gains little over the scalar one (or the API runs unaccelerated). */
  static final int MIN_VECTOR_LANES = 4;

  private static final String VECTOR_MODULE = "jdk.incubator.vector";

  /** Which kernel to make. */
  public enum Choice {
    /** The vector kernel where the JVM supports it, else the scalar one. */
    AUTO,
    /** Always the portable scalar kernel. */
    SCALAR,
    /** Always the vector kernel; fails where the JVM lacks the Vector API. */
    VECTOR;

    /**
     * Parses {@code auto}, {@code scalar} or {@code vector} (any case; null or blank is {@code auto}).
     *
     * @throws IllegalArgumentException for any other value, naming it
     */
    public static Choice parse(String value) {
      if (value == null || value.isBlank()) {
        return AUTO;
      }
      return switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "auto" -> AUTO;
        case "scalar" -> SCALAR;
        case "vector" -> VECTOR;
        default -> throw new IllegalArgumentException(
            "Invalid " + KERNEL_PROPERTY + ": '" + value + "' (must be auto, scalar or vector)");
      };
    }

    /** The choice set by the system property {@value #KERNEL_PROPERTY}, read now. */
    public static Choice fromSystemProperty() {
      return parse(System.getProperty(KERNEL_PROPERTY));
    }
  }

  /**
   * How exactly a Linear layer's float32 outputs are computed. Only the float32 forward pass is concerned: a gradient
   * tape's float64 pass ({@link Float64Linear}) is computed in float64 whatever the precision.
   */
  public enum Precision {
    /**
     * Float32 multiply-adds, in the order of {@link LinearKernel}: the vector or the scalar kernel, as {@link Choice}
     * and the system property {@value #KERNEL_PROPERTY} pick. As accurate as PyTorch's float32 {@code nn.Linear} or
     * more, and the fastest.
     */
    FLOAT32,
    /**
     * Compensated dot products (Ogita, Rump and Oishi's {@code Dot2}, from FMA-based error-free transformations): the
     * outputs as if computed in twice float32's precision and rounded once to float32, i.e. the exact value rounded to
     * float32 but for strongly cancelling sums. Several times the float32 kernels' cost; the kernel is named
     * {@code "compensated"}.
     */
    COMPENSATED
  }

  private LinearKernels() {}

  /**
   * The kernel for {@code weight} ({@code [out, in]}) and {@code bias} ({@code [out]} or null) that the system property
   * {@value #KERNEL_PROPERTY} asks for: by default the fastest one available on this JVM.
   */
  public static LinearKernel create(Tensor weight, Tensor bias) {
    return create(weight, bias, Choice.fromSystemProperty());
  }

  /**
   * The kernel of {@code precision}: for {@link Precision#FLOAT32} the one {@link #create(Tensor, Tensor)} makes, for
   * {@link Precision#COMPENSATED} the compensated kernel.
   */
  public static LinearKernel create(Tensor weight, Tensor bias, Precision precision) {
    return switch (precision) {
      case FLOAT32 -> create(weight, bias);
      case COMPENSATED -> new CompensatedLinearKernel(weight, bias);
    };
  }

  /**
   * The kernel that {@code choice} asks for.
   *
   * @throws IllegalStateException if {@code choice} is {@link Choice#VECTOR} and this JVM has no usable Vector API
   */
  public static LinearKernel create(Tensor weight, Tensor bias, Choice choice) {
    return switch (choice) {
      case SCALAR -> new BlockedLinearKernel(weight, bias);
      case VECTOR -> {
        if (VectorSupport.CONSTRUCTOR == null) {
          throw new IllegalStateException(
              "Cannot use the vector kernel (" + KERNEL_PROPERTY + "=vector): " + VectorSupport.UNAVAILABLE_REASON);
        }
        yield VectorSupport.create(weight, bias);
      }
      case AUTO -> VectorSupport.CONSTRUCTOR != null
          ? VectorSupport.create(weight, bias)
          : new BlockedLinearKernel(weight, bias);
    };
  }

  /**
   * The {@link LinearKernel#name()} of every kernel there is: {@code "vector"}, {@code "scalar"} and
   * {@code "compensated"}.
   */
  public static List<String> kernelNames() {
    return List.of("vector", "scalar", "compensated");
  }

  /** Whether this JVM can run the vector kernel ({@code jdk.incubator.vector} present, wide enough vectors). */
  public static boolean vectorKernelAvailable() {
    return VectorSupport.CONSTRUCTOR != null;
  }

  /**
   * The {@link LinearKernel#name()} of the kernel that {@link #create(Tensor, Tensor)} makes now ({@code "vector"} or
   * {@code "scalar"}), for a run summary.
   */
  public static String defaultKernelName() {
    Choice choice = Choice.fromSystemProperty();
    return choice == Choice.SCALAR || VectorSupport.CONSTRUCTOR == null ? "scalar" : "vector";
  }

  /**
   * Finds the vector kernel once. It is only ever reached through reflection, after the module check, so that a JVM
   * without the module never tries to link a class that refers to {@code jdk.incubator.vector}.
   */
  private static final class VectorSupport {
    static final Constructor<?> CONSTRUCTOR;
    static final String UNAVAILABLE_REASON;

    static {
      Constructor<?> constructor = null;
      String reason = null;
      if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
        reason = "module " + VECTOR_MODULE + " is not in this JVM; start it with --add-modules " + VECTOR_MODULE;
      } else {
        try {
          Class<?> kernel = Class.forName(LinearKernels.class.getPackageName() + ".VectorLinearKernel");
          int lanes = (int) kernel.getDeclaredMethod("lanes").invoke(null);
          if (lanes < MIN_VECTOR_LANES) {
            reason = "the preferred vector holds " + lanes + " floats (at least " + MIN_VECTOR_LANES + " needed)";
          } else {
            constructor = kernel.getDeclaredConstructor(Tensor.class, Tensor.class);
          }
        } catch (ReflectiveOperationException | LinkageError e) {
          reason = "the Vector API could not be loaded: " + e;
        }
      }
      CONSTRUCTOR = constructor;
      UNAVAILABLE_REASON = reason;
    }

    static LinearKernel create(Tensor weight, Tensor bias) {
      try {
        return (LinearKernel) CONSTRUCTOR.newInstance(weight, bias);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException runtime) {
          throw runtime;
        }
        if (cause instanceof Error error) {
          throw error;
        }
        throw new IllegalStateException("Cannot create the vector kernel", cause);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Cannot create the vector kernel", e);
      }
    }

    private VectorSupport() {}
  }
}
