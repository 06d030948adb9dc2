package dev.sparklinear.core.kernel;

/**
 * A function a kernel applies to its output values before it stores them: an element-wise activation fused into the
 * layer that precedes it, so that the output is written once, already activated, instead of written, read back and
 * written again by a separate pass.
 *
 * <p>The kernel computes a tile of outputs into a heap array, calls {@link #apply} on the values it has finished, then
 * stores them: the function sees exactly the float32 values the kernel would have stored without it, so a fused layer
 * gives bit for bit what the layer followed by the activation gives. Implementations are pure float-to-float functions
 * and keep no state: kernels call them from many threads.
 *
 * <pre>{@code
 * kernel.apply(x, y, Epilogue.RELU);  // y = relu(x W^T + b)
 * }</pre>
 */
@FunctionalInterface
public interface Epilogue {
  /**
   * PyTorch's relu, {@code x < 0 ? 0 : x} for each value (NaN and {@code -0.0} pass unchanged). The vector kernel
   * recognises it and applies it with vector compares and blends, which give the same bits.
   */
  Epilogue RELU = new Epilogue() {
    @Override
    public void apply(float[] values, int from, int to) {
      for (int i = from; i < to; i++) {
        values[i] = relu(values[i]);
      }
    }

    @Override
    public String toString() {
      return "Epilogue.RELU";
    }
  };

  /** Replaces {@code values[from .. to)} by the function's values at them. */
  void apply(float[] values, int from, int to);

  /** The function of {@link #RELU} at one value: {@code x < 0 ? 0 : x}. */
  static float relu(float x) {
    return x < 0 ? 0f : x;
  }
}
