package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Every module's backward against central finite differences of an independent float64 forward written here, with
 * no torch involved: for {@code L = sum(g * f(x))}, {@code dL/dx} and {@code dL/dtheta} from {@code (L(v + h) -
 * L(v - h)) / 2h}, {@code h = 1e-6}, must match the module's float32 gradients within {@code 1e-4} of the gradient's
 * largest magnitude (float32 rounding of the inputs to the backward, not a wrong formula, which is off by far more).
 * A property: every module, on blocks of random shape, parameters and values.
 */
class FiniteDifferenceGradientTest {
  private static final double H = 1e-6;

  /** A float64 forward of one module: params are its parameters by name (mutable, for perturbing). */
  interface Reference {
    double[] row(double[] x, Map<String, double[]> params);
  }

  record Case(String name, Module module, Reference reference) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** Every module of the property, with {@code cols} inputs ({@code out} outputs for Linear), seeded. */
  static List<Case> cases(int cols, int out, long seed) {
    return List.of(
        new Case("Linear", new Linear(cols, out, true, seed), (x, p) -> {
          double[] y = new double[out];
          for (int o = 0; o < out; o++) {
            y[o] = p.get("bias")[o];
            for (int i = 0; i < cols; i++) {
              y[o] += x[i] * p.get("weight")[o * cols + i];
            }
          }
          return y;
        }),
        new Case("Linear without bias", new Linear(cols, out, false, seed + 1), (x, p) -> {
          double[] y = new double[out];
          for (int o = 0; o < out; o++) {
            for (int i = 0; i < cols; i++) {
              y[o] += x[i] * p.get("weight")[o * cols + i];
            }
          }
          return y;
        }),
        new Case("ReLU", new ReLU(), map(v -> Math.max(0, v))),
        new Case("GELU", new GELU(), map(v -> v * normalCdf(v))),
        new Case("GELU tanh", new GELU("tanh"),
            map(v -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))))),
        new Case("SiLU", new SiLU(), map(v -> v / (1 + Math.exp(-v)))),
        new Case("Sigmoid", new Sigmoid(), map(v -> 1 / (1 + Math.exp(-v)))),
        new Case("Tanh", new Tanh(), map(Math::tanh)),
        new Case("Identity", new Identity(), map(v -> v)),
        new Case("Dropout", new Dropout(0.3), map(v -> v)),
        new Case("Softmax", new Softmax(-1), (x, p) -> {
          double sum = 0;
          double[] y = new double[x.length];
          for (int i = 0; i < x.length; i++) {
            y[i] = Math.exp(x[i]);
            sum += y[i];
          }
          for (int i = 0; i < x.length; i++) {
            y[i] /= sum;
          }
          return y;
        }),
        new Case("LayerNorm", affine(new LayerNorm(cols), seed), (x, p) -> layerNorm(x, p.get("weight"), p.get("bias"), 1e-5)),
        new Case("LayerNorm without affine", new LayerNorm(cols, 1e-5, false), (x, p) -> layerNorm(x, null, null, 1e-5)),
        new Case("BatchNorm1d", batchNorm(cols, seed), (x, p) -> {
          double[] y = new double[x.length];
          for (int c = 0; c < x.length; c++) {
            y[c] = (x[c] - 0.25 * c) / Math.sqrt(1 + 0.5 * c + 1e-5) * p.get("weight")[c] + p.get("bias")[c];
          }
          return y;
        }));
  }

  private static Reference map(java.util.function.DoubleUnaryOperator f) {
    return (x, p) -> {
      double[] y = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        y[i] = f.applyAsDouble(x[i]);
      }
      return y;
    };
  }

  /** Phi(x) by Simpson's rule on the normal density from 0 to x (independent of the Erf under test). */
  private static double normalCdf(double x) {
    int n = 2000;
    double h = x / n;
    double sum = 0;
    for (int i = 0; i <= n; i++) {
      double t = i * h;
      double w = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2;
      sum += w * Math.exp(-0.5 * t * t);
    }
    return 0.5 + sum * h / 3 / Math.sqrt(2 * Math.PI);
  }

  private static double[] layerNorm(double[] x, double[] weight, double[] bias, double eps) {
    double mean = 0;
    for (double v : x) {
      mean += v / x.length;
    }
    double var = 0;
    for (double v : x) {
      var += (v - mean) * (v - mean) / x.length;
    }
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = (x[i] - mean) / Math.sqrt(var + eps);
      if (weight != null) {
        y[i] = y[i] * weight[i] + bias[i];
      }
    }
    return y;
  }

  /** Non-trivial weight and bias, so that a gradient formula that ignores them fails. */
  private static Module affine(Module norm, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Tensor> state = new LinkedHashMap<>();
    norm.stateDict().forEach((name, t) -> {
      float[] v = new float[t.numel()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (name.equals("weight") ? 0.5 + random.nextDouble() : random.nextDouble() - 0.5);
      }
      state.put(name, Tensor.wrap(v, t.shape()));
    });
    norm.loadStateDict(state, true);
    return norm;
  }

  private static Module batchNorm(int cols, long seed) {
    BatchNorm1d norm = new BatchNorm1d(cols);
    affine(norm, seed);
    float[] mean = new float[cols];
    float[] var = new float[cols];
    for (int c = 0; c < cols; c++) {
      mean[c] = 0.25f * c;
      var[c] = 1 + 0.5f * c;
    }
    Map<String, Tensor> state = new LinkedHashMap<>(norm.stateDict());
    state.put("running_mean", Tensor.wrap(mean, cols));
    state.put("running_var", Tensor.wrap(var, cols));
    norm.loadStateDict(state, true);
    return norm.eval();
  }

  private static double loss(Reference f, float[][] x, double[][] xd, float[][] g, Map<String, double[]> params) {
    double sum = 0;
    for (int r = 0; r < x.length; r++) {
      double[] y = f.row(xd[r], params);
      for (int c = 0; c < y.length; c++) {
        sum += g[r][c] * y[c];
      }
    }
    return sum;
  }

  @Provide
  Arbitrary<String> modules() {
    return Arbitraries.of(cases(3, 1, 0).stream().map(Case::name).toList());
  }

  @Property(tries = 150)
  void backwardMatchesFiniteDifferencesInFloat64(@ForAll("modules") String name,
      @ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 3, max = 12) int cols,
      @ForAll @IntRange(min = 1, max = 5) int out, @ForAll long seed) {
    Case c = cases(cols, out, seed).stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    SplittableRandom random = new SplittableRandom(seed);
    Module module = c.module().eval();
    float[][] x = new float[rows][cols];
    for (float[] row : x) {
      for (int i = 0; i < cols; i++) {
        double v = random.nextDouble() * 4 - 2;
        row[i] = (float) (Math.abs(v) < 0.05 ? v + 0.2 : v); // away from ReLU's kink
      }
    }
    float[][] ourGradInput;
    int outCols;
    float[][] g;
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock xb = FloatBlock.copyOf(allocator, x);
        GradientTape tape = new GradientTape(allocator)) {
      tape.watch(xb);
      try (FloatBlock y = module.call(xb, CallContext.of(xb).withTape(tape))) {
        outCols = y.cols();
        g = new float[rows][outCols];
        for (float[] row : g) {
          for (int i = 0; i < outCols; i++) {
            row[i] = (float) (random.nextDouble() * 2 - 1);
          }
        }
        try (FloatBlock gb = FloatBlock.copyOf(allocator, g)) {
          tape.backward(y, gb);
        }
      }
      ourGradInput = tape.inputGradient(xb).toRows();
    }

    Map<String, double[]> params = new LinkedHashMap<>();
    module.namedParameters().forEach((parameter, p) -> {
      double[] v = new double[p.numel()];
      for (int i = 0; i < v.length; i++) {
        v[i] = p.get(i);
      }
      params.put(parameter, v);
    });
    double[][] xd = new double[rows][cols];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < cols; i++) {
        xd[r][i] = x[r][i];
      }
    }
    double[] fdInput = new double[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < cols; i++) {
        double v = xd[r][i];
        xd[r][i] = v + H;
        double plus = loss(c.reference(), x, xd, g, params);
        xd[r][i] = v - H;
        double minus = loss(c.reference(), x, xd, g, params);
        xd[r][i] = v;
        fdInput[r * cols + i] = (plus - minus) / (2 * H);
      }
    }
    float[] ours = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(ourGradInput[r], 0, ours, r * cols, cols);
    }
    assertClose(c.name() + " grad_input", ours, fdInput);

    for (Map.Entry<String, double[]> param : params.entrySet()) {
      double[] v = param.getValue();
      double[] fd = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        double saved = v[i];
        v[i] = saved + H;
        double plus = loss(c.reference(), x, xd, g, params);
        v[i] = saved - H;
        double minus = loss(c.reference(), x, xd, g, params);
        v[i] = saved;
        fd[i] = (plus - minus) / (2 * H);
      }
      assertClose(c.name() + " " + param.getKey() + ".grad",
          module.namedParameters().get(param.getKey()).grad().toArray(), fd);
    }
  }

  private static void assertClose(String what, float[] ours, double[] finiteDifferences) {
    double scale = 0;
    for (double d : finiteDifferences) {
      scale = Math.max(scale, Math.abs(d));
    }
    if (scale <= 1e-3) {
      // A gradient that is zero everywhere, as ReLU's is when every input drawn is negative (one row of three inputs
      // does it one time in eight): ours must be zero too, not merely small.
      for (int i = 0; i < ours.length; i++) {
        assertThat(Math.abs(ours[i])).as("%s[%d]: ours %s, finite differences %s", what, i, ours[i],
            finiteDifferences[i]).isLessThanOrEqualTo(1e-9f);
      }
      return;
    }
    for (int i = 0; i < ours.length; i++) {
      assertThat(Math.abs(ours[i] - finiteDifferences[i]))
          .as("%s[%d]: ours %s, finite differences %s", what, i, ours[i], finiteDifferences[i])
          .isLessThanOrEqualTo(1e-4 * scale);
    }
  }
}
