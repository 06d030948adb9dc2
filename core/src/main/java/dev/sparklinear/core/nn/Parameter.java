package dev.sparklinear.core.nn;

import dev.sparklinear.core.tensor.Tensor;

/**
 * A tensor that is a module's parameter, as {@code torch.nn.Parameter}: the values plus a requires-grad flag.
 *
 * <p>Like every {@link Tensor} it is immutable; a module's weight is changed by assigning a new parameter of the same
 * shape ({@code fc.setWeight(new Parameter(w))}, the Java form of {@code fc.weight = nn.Parameter(w)}), never by
 * editing one in place.
 */
public final class Parameter extends Tensor {
  private static final long serialVersionUID = 1L;

  private final boolean requiresGrad;

  /** A parameter holding {@code data}'s values, requiring grad (PyTorch's default). */
  public Parameter(Tensor data) {
    this(data, true);
  }

  public Parameter(Tensor data, boolean requiresGrad) {
    super(data.toArray(), data.shape(), true);
    this.requiresGrad = requiresGrad;
  }

  /** A parameter made from a row-major array the caller hands over and will not modify again. */
  static Parameter wrap(float[] data, int[] shape, boolean requiresGrad) {
    return new Parameter(data, shape, requiresGrad);
  }

  private Parameter(float[] data, int[] shape, boolean requiresGrad) {
    super(data, shape, true);
    this.requiresGrad = requiresGrad;
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  @Override
  public boolean equals(Object o) {
    return super.equals(o) && requiresGrad == ((Parameter) o).requiresGrad;
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Boolean.hashCode(requiresGrad);
  }

  @Override
  public String toString() {
    return "Parameter containing: " + super.toString();
  }
}
