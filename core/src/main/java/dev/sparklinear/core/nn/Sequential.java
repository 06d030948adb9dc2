package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Runs its children one after the other, each on the previous one's output, as PyTorch's {@code nn.Sequential}.
 * Children are named {@code 0}, {@code 1}, ... (or given names), so the state dict reads as PyTorch's
 * ({@code 0.weight}, {@code 1.running_mean}) and the repr matches PyTorch's print:
 *
 * <pre>{@code
 * Sequential head = new Sequential(new Linear(48, 32), new LayerNorm(32), new GELU(), new Linear(32, 8));
 * head.loadStateDict(SafetensorsReader.read(path).tensors(), true);
 * head.eval();
 * try (FloatBlock y = head.call(x)) { ... }
 * }</pre>
 *
 * <p>Each child runs through its own {@link Module#call}, so every node's hooks and the global hooks fire, in
 * PyTorch's order: the parent's pre-hooks, then child 0's pre-hooks, forward and forward hooks, child 1's, ..., and
 * the parent's forward hooks last. {@code forward} closes each intermediate block as soon as the next child has used
 * it (never the caller's input), so with no hooks a call takes one block per child, from the context
 * ({@link CallContext#allocate}: in a job, from the partition's pool).
 *
 * <p>A {@link Linear} directly followed by an element-wise activation (ReLU, GELU, SiLU, Sigmoid, Tanh) runs as one
 * step when no hook could see the block between them (no global hook, no forward hook on the Linear, no hook on the
 * activation): the Linear's kernel applies the activation to its outputs before storing them, and the activation's
 * own pass and block are skipped. The values are bit for bit those of the two steps; a hook registered between them
 * sees the Linear's output as in PyTorch, because then the two run one after the other. A call recorded on a
 * {@link GradientTape} is never fused: each child keeps what its own backward needs.
 */
public class Sequential extends Module {
  private static final long serialVersionUID = 1L;

  /** Children named {@code 0}, {@code 1}, ... in the given order; no children is allowed, as in PyTorch. */
  public Sequential(Module... modules) {
    this(List.of(modules));
  }

  /** Children named {@code 0}, {@code 1}, ... in the list's order. */
  public Sequential(List<? extends Module> modules) {
    for (Module module : modules) {
      append(module);
    }
  }

  /** Children under the map's names, in its iteration order, as {@code nn.Sequential(OrderedDict(...))}. */
  public Sequential(Map<String, ? extends Module> namedModules) {
    namedModules.forEach(this::registerModule);
  }

  /** Adds {@code module} at the end, under the next index, as PyTorch's {@code append}; returns this. */
  public final Sequential append(Module module) {
    registerModule(String.valueOf(namedChildren().size()), module);
    return this;
  }

  /** The number of children, as {@code len(seq)}. */
  public final int size() {
    return namedChildren().size();
  }

  /**
   * The child at {@code index}, counting from the end when negative, as {@code seq[index]}.
   *
   * @throws IndexOutOfBoundsException worded as PyTorch's, outside {@code [-size, size)}
   */
  public final Module get(int index) {
    List<Module> children = children();
    if (index < -children.size() || index >= children.size()) {
      throw new IndexOutOfBoundsException("index " + index + " is out of range");
    }
    return children.get(index < 0 ? index + children.size() : index);
  }

  /** Used by a backward pass only when there are no children: then the output is a copy of the input. */
  @Override
  int savedForBackward() {
    return 0;
  }

  @Override
  Float64Block forward64(Float64Block input) {
    return input.copy();
  }

  @Override
  Float64Block backward(Float64Block input, Float64Block output, Float64Block gradOutput, boolean inputNeedsGrad,
      GradientSink gradients) {
    return inputNeedsGrad ? gradOutput.copy() : null;
  }

  @Override
  protected FloatBlock forward(FloatBlock input, CallContext context) {
    FloatBlock x = input;
    List<Module> children = children();
    try {
      for (int i = 0; i < children.size(); i++) {
        Module child = children.get(i);
        FloatBlock y = null;
        if (child instanceof Linear linear && i + 1 < children.size()
            && children.get(i + 1) instanceof ElementwiseModule activation) {
          y = linear.callActivated(activation, x, context);
          i += y == null ? 0 : 1;
        }
        if (y == null) {
          y = child.call(x, context);
        }
        if (x != input && y != x) {
          x.close();
        }
        x = y;
      }
    } catch (RuntimeException | Error e) {
      if (x != input) {
        x.close();
      }
      throw e;
    }
    // No children (or children that hand their input back): the caller still gets a block of its own to close.
    if (x != input) {
      return x;
    }
    return context.allocateAndWrite(input.rows(), input.cols(), copy -> input.mapRows(copy, (v, r, c, first) -> true));
  }
}
