package dev.sparklinear.core.nn;

import dev.sparklinear.core.tensor.Tensor;
import java.util.Objects;

/**
 * A tensor that is a module's parameter, as {@code torch.nn.Parameter}: the values, a requires-grad flag and, once a
 * backward pass or an optimizer's caller has set one, a gradient of the same shape.
 *
 * <p>The values are immutable like every {@link Tensor}'s; a module's weight is changed by assigning a new parameter
 * of the same shape ({@code fc.setWeight(new Parameter(w))}, the Java form of {@code fc.weight = nn.Parameter(w)}), or
 * by an optimizer step, which replaces the values through {@link Module#updateParameters} and keeps the flag and the
 * gradient, as torch's in-place {@code p.add_(...)} does. The flag and the gradient are the mutable part, as in torch:
 *
 * <pre>{@code
 * fc.weight().setRequiresGrad(false);   // p.requires_grad_(False): frozen, a backward pass skips it
 * fc.bias().get().accumulateGrad(g);    // p.grad += g, or p.grad = g when p.grad is None
 * fc.bias().get().grad();               // p.grad: null until set
 * fc.zeroGrad(true);                    // fc.zero_grad(set_to_none=True)
 * }</pre>
 *
 * <p>The gradient is {@code transient}: a serialized parameter (a module broadcast to executors) arrives without one,
 * as {@code torch.save} writes a parameter without its {@code .grad}; executors send their gradients back as data.
 * Gradient methods are synchronized, so tasks that share a module may accumulate into it concurrently.
 */
public final class Parameter extends Tensor {
  private static final long serialVersionUID = 1L;

  private volatile boolean requiresGrad;
  /** The gradient, row-major as the values; null while there is none (torch's {@code grad is None}). */
  private transient float[] grad;

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

  /**
   * This parameter with new values (an array the caller hands over), the same flag and a copy of the gradient: what
   * an in-place update leaves behind.
   */
  Parameter withValues(float[] values) {
    Parameter updated = new Parameter(values, shape(), requiresGrad);
    synchronized (this) {
      updated.grad = grad == null ? null : grad.clone();
    }
    return updated;
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /**
   * Sets whether a backward pass computes a gradient for this parameter, as torch's {@code requires_grad_}. A frozen
   * parameter keeps any gradient it already has (as in torch), gets no new one, and optimizers skip it while it has
   * none.
   *
   * @return this parameter
   */
  public Parameter setRequiresGrad(boolean requiresGrad) {
    this.requiresGrad = requiresGrad;
    return this;
  }

  /** A copy of the gradient, of this parameter's shape, or null when there is none (torch's {@code p.grad}). */
  public synchronized Tensor grad() {
    return grad == null ? null : Tensor.wrap(grad.clone(), shape());
  }

  /**
   * Replaces the gradient, as torch's {@code p.grad = gradient}; null removes it ({@code p.grad = None}).
   *
   * @throws IllegalArgumentException when {@code gradient} is not float32 of this parameter's shape
   */
  public void setGrad(Tensor gradient) {
    float[] values = gradient == null ? null : checkedGradient(gradient).toArray();
    synchronized (this) {
      grad = values;
    }
  }

  /**
   * Adds {@code gradient} into the gradient, creating it when there is none: what autograd does at a leaf when a
   * backward pass reaches it. The sum is float32, as torch's {@code grad += new} on a float32 parameter.
   *
   * @throws IllegalStateException when this parameter does not require grad: a backward pass checks
   *     {@link #requiresGrad()} first and spends nothing on a frozen parameter
   * @throws IllegalArgumentException when {@code gradient} is not float32 of this parameter's shape
   */
  public void accumulateGrad(Tensor gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (!requiresGrad) {
      throw new IllegalStateException("Cannot accumulate a gradient into a parameter that does not require grad"
          + " (requires_grad=False); check requiresGrad() before computing it");
    }
    checkedGradient(gradient);
    synchronized (this) {
      if (grad == null) {
        grad = gradient.toArray();
        return;
      }
      for (int i = 0; i < grad.length; i++) {
        grad[i] += gradient.get(i);
      }
    }
  }

  /**
   * Clears the gradient, as torch's {@code zero_grad}: removes it when {@code setToNone} (torch 2's default), else
   * fills it with zeros. A parameter without a gradient keeps none either way.
   */
  public synchronized void zeroGrad(boolean setToNone) {
    if (grad == null) {
      return;
    }
    if (setToNone) {
      grad = null;
    } else {
      grad = new float[grad.length];
    }
  }

  private Tensor checkedGradient(Tensor gradient) {
    if (!sameShape(gradient)) {
      // torch's message for p.grad = g of another shape
      throw new IllegalArgumentException("assigned grad has data of a different size: gradient of shape "
          + gradient.shapeString() + " for a parameter of shape " + shapeString());
    }
    if (gradient.dtype() != dtype()) {
      throw new IllegalArgumentException("assigned grad has data of a different type: " + gradient.dtype()
          + " for a " + dtype() + " parameter");
    }
    return gradient;
  }

  /** Equal values and requires-grad flag; the gradient is training state and takes no part. */
  @Override
  public boolean equals(Object o) {
    return super.equals(o) && requiresGrad == ((Parameter) o).requiresGrad;
  }

  /** The values' hash only: the flag is mutable, and equal parameters have equal values anyway. */
  @Override
  public int hashCode() {
    return super.hashCode();
  }

  @Override
  public String toString() {
    return "Parameter containing: " + super.toString();
  }
}
