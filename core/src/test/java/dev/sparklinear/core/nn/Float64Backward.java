package dev.sparklinear.core.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backward pass of a tree of modules in float64, by this class's own formulas (not the code under test), from the
 * float32 input each leaf module was given in a forward pass: what a tree's gradients would be if the backward pass
 * rounded nothing. Fed with the inputs our float32 forward pass gave each module, its difference from torch's float64
 * reference is the part of our error that the forward pass's float32 values alone cause.
 *
 * <pre>{@code
 * Float64Backward exact = Float64Backward.record(tree);   // forward hooks on every leaf
 * tree.call(x, ...);                                        // the forward pass whose inputs are kept
 * Map<String, double[]> gradients = exact.backward(gradOutput);  // "input", then each parameter by name
 * exact.close();
 * }</pre>
 */
final class Float64Backward implements AutoCloseable {
  private final Module tree;
  /** The leaf modules in the order the forward pass runs them (a tree of {@link Sequential}s). */
  private final List<Module> leaves = new ArrayList<>();
  private final Map<Module, String> names = new IdentityHashMap<>();
  private final Map<Module, double[][]> inputs = new IdentityHashMap<>();
  private final List<RemovableHandle> handles = new ArrayList<>();

  private Float64Backward(Module tree) {
    this.tree = tree;
    tree.namedModules().forEach((name, module) -> {
      names.put(module, name);
      if (module.children().isEmpty()) {
        leaves.add(module);
        handles.add(module.registerForwardPreHook((m, input, context) -> {
          inputs.put(m, widen(input.toRows()));
          return null;
        }));
      }
    });
  }

  /** Keeps the input each leaf of {@code tree} is given from now on (the last call's). */
  static Float64Backward record(Module tree) {
    return new Float64Backward(tree);
  }

  /**
   * The float64 gradients of {@code (y * gradOutput).sum()} for the last recorded forward pass: under {@code "input"}
   * the input's, row-major, then each parameter's under its name in {@code tree}.
   */
  Map<String, double[]> backward(float[][] gradOutput) {
    Map<String, double[]> parameters = new LinkedHashMap<>();
    double[][] grad = widen(gradOutput);
    for (int i = leaves.size() - 1; i >= 0; i--) {
      Module leaf = leaves.get(i);
      String prefix = names.get(leaf).isEmpty() ? "" : names.get(leaf) + ".";
      grad = leafBackward(leaf, inputs.get(leaf), grad, prefix, parameters);
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    out.put("input", flatten(grad));
    tree.namedParameters().keySet().forEach(name -> out.put(name, parameters.get(name)));
    return out;
  }

  @Override
  public void close() {
    handles.forEach(RemovableHandle::remove);
  }

  private static double[][] leafBackward(Module leaf, double[][] x, double[][] dy, String prefix,
      Map<String, double[]> parameters) {
    int rows = x.length;
    int cols = x[0].length;
    if (leaf instanceof Linear linear) {
      return linearBackward(linear, x, dy, prefix, parameters);
    }
    double[][] dx = new double[rows][cols];
    if (leaf instanceof LayerNorm norm) {
      double[] weight = norm.weight().map(p -> widen(p.toArray())).orElse(null);
      double[] weightGrad = new double[cols];
      double[] biasGrad = new double[cols];
      for (int r = 0; r < rows; r++) {
        double mean = 0;
        for (double v : x[r]) {
          mean += v;
        }
        mean /= cols;
        double variance = 0;
        for (double v : x[r]) {
          variance += (v - mean) * (v - mean);
        }
        variance /= cols;
        double inverseStd = 1 / Math.sqrt(variance + norm.eps());
        double[] xhat = new double[cols];
        double[] dxhat = new double[cols];
        double meanDxhat = 0;
        double meanDxhatXhat = 0;
        for (int c = 0; c < cols; c++) {
          xhat[c] = (x[r][c] - mean) * inverseStd;
          dxhat[c] = dy[r][c] * (weight == null ? 1 : weight[c]);
          meanDxhat += dxhat[c] / cols;
          meanDxhatXhat += dxhat[c] * xhat[c] / cols;
          weightGrad[c] += dy[r][c] * xhat[c];
          biasGrad[c] += dy[r][c];
        }
        for (int c = 0; c < cols; c++) {
          dx[r][c] = inverseStd * (dxhat[c] - meanDxhat - xhat[c] * meanDxhatXhat);
        }
      }
      norm.weight().ifPresent(p -> parameters.put(prefix + "weight", weightGrad));
      norm.bias().ifPresent(p -> parameters.put(prefix + "bias", biasGrad));
      return dx;
    }
    if (leaf instanceof BatchNorm1d norm) {
      double[] mean = widen(norm.runningMean().orElseThrow().toArray());
      double[] variance = widen(norm.runningVar().orElseThrow().toArray());
      double[] weight = norm.weight().map(p -> widen(p.toArray())).orElse(null);
      double[] weightGrad = new double[cols];
      double[] biasGrad = new double[cols];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          double inverseStd = 1 / Math.sqrt(variance[c] + norm.eps());
          dx[r][c] = dy[r][c] * (weight == null ? 1 : weight[c]) * inverseStd;
          weightGrad[c] += dy[r][c] * (x[r][c] - mean[c]) * inverseStd;
          biasGrad[c] += dy[r][c];
        }
      }
      norm.weight().ifPresent(p -> parameters.put(prefix + "weight", weightGrad));
      norm.bias().ifPresent(p -> parameters.put(prefix + "bias", biasGrad));
      return dx;
    }
    if (leaf instanceof Softmax) {
      for (int r = 0; r < rows; r++) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x[r]) {
          max = Math.max(max, v);
        }
        double[] s = new double[cols];
        double sum = 0;
        for (int c = 0; c < cols; c++) {
          s[c] = Math.exp(x[r][c] - max);
          sum += s[c];
        }
        double dot = 0;
        for (int c = 0; c < cols; c++) {
          s[c] /= sum;
          dot += dy[r][c] * s[c];
        }
        for (int c = 0; c < cols; c++) {
          dx[r][c] = s[c] * (dy[r][c] - dot);
        }
      }
      return dx;
    }
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        dx[r][c] = dy[r][c] * derivative(leaf, x[r][c]);
      }
    }
    return dx;
  }

  private static double[][] linearBackward(Linear linear, double[][] x, double[][] dy, String prefix,
      Map<String, double[]> parameters) {
    int rows = x.length;
    int in = linear.inFeatures();
    int out = linear.outFeatures();
    double[] w = widen(linear.weight().toArray());
    double[][] dx = new double[rows][in];
    double[] weightGrad = new double[out * in];
    double[] biasGrad = new double[out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        biasGrad[o] += dy[r][o];
        for (int i = 0; i < in; i++) {
          dx[r][i] += dy[r][o] * w[o * in + i];
          weightGrad[o * in + i] += dy[r][o] * x[r][i];
        }
      }
    }
    parameters.put(prefix + "weight", weightGrad);
    if (linear.hasBias()) {
      parameters.put(prefix + "bias", biasGrad);
    }
    return dx;
  }

  /** The derivative of an element-wise leaf at {@code x}. */
  private static double derivative(Module leaf, double x) {
    if (leaf instanceof ReLU) {
      return x > 0 ? 1 : 0;
    }
    if (leaf instanceof Sigmoid) {
      double s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    }
    if (leaf instanceof Tanh) {
      double t = Math.tanh(x);
      return 1 - t * t;
    }
    if (leaf instanceof SiLU) {
      double s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    if (leaf instanceof GELU gelu && gelu.approximate().equals("tanh")) {
      double k = Math.sqrt(2 / Math.PI);
      double u = k * (x + 0.044715 * x * x * x);
      double s = 1 / (1 + Math.exp(-2 * u));
      return s + 2 * x * s * (1 - s) * k * (1 + 3 * 0.044715 * x * x);
    }
    if (leaf instanceof GELU) {
      return normalCdf(x) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }
    if (leaf instanceof Dropout || leaf instanceof Identity) {
      return 1; // evaluation mode
    }
    throw new IllegalArgumentException("No float64 backward for " + leaf);
  }

  /**
   * {@code Phi(x) = 1/2 + integral from 0 to x of the normal density}, by Simpson's rule on 20,000 intervals (error
   * below 1e-14 for the arguments of these trees), so that the reference does not lean on any erf of the code under
   * test.
   */
  private static double normalCdf(double x) {
    int intervals = 20_000;
    double h = x / intervals;
    double sum = density(0) + density(x);
    for (int i = 1; i < intervals; i++) {
      sum += (i % 2 == 1 ? 4 : 2) * density(i * h);
    }
    return 0.5 + sum * h / 3;
  }

  private static double density(double t) {
    return Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  }

  private static double[][] widen(float[][] rows) {
    double[][] out = new double[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      out[r] = widen(rows[r]);
    }
    return out;
  }

  private static double[] widen(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  private static double[] flatten(double[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    double[] out = new double[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * cols, cols);
    }
    return out;
  }
}
