package dev.sparklinear.core.nn;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Records the calls made with it, so that a backward pass can run through them: the Java form of what torch's
 * autograd does while grad mode is on. A tape is an explicit scope: calls made with a {@link CallContext} that
 * carries it ({@link CallContext#withTape}) are recorded; calls without one record nothing and cost nothing, which is
 * torch's {@code no_grad} (and {@code inference_mode}: nothing is kept for a later backward either). A Spark job's
 * forward path never has a tape.
 *
 * <pre>{@code
 * try (GradientTape tape = new GradientTape(allocator)) {
 *   tape.watch(x);                                            // x.requires_grad_(): ask for dLoss/dx
 *   try (FloatBlock y = net.call(x, CallContext.of(x).withTape(tape));
 *        FloatBlock dy = loss.backward(y, target)) {
 *     tape.backward(y, dy);                                   // loss.backward(): parameters' .grad accumulate
 *     float[] dx = tape.inputGradient(x).toArray();           // x.grad
 *   }
 * }                                                           // frees every block the tape kept
 * }</pre>
 *
 * <p><b>Float64 all the way.</b> While recording, each module that computes (Linear, the activations, the norms,
 * Dropout, Identity) and whose output requires grad also runs its forward in float64 on the float64 values of its
 * input ({@code Module.forward64}): the float32 blocks that {@code call} returns are unchanged, and the tape keeps,
 * on the heap, the float64 values its backward reads (its input, its output or neither). Gradients flow between
 * modules in float64 too; only what a caller sees is rounded to float32, once: parameters' gradients, an input's
 * gradient, and the blocks shown to backward hooks. torch's float32 pass rounds every activation and every step of
 * its backward, and a tree's gradients carry all those roundings; ours carry one, so that they stay within torch's
 * own float32 error of the float64 result. A module with backward hooks passes on the float32 gradient its hooks saw
 * or returned, as torch would. The cost is a float64 forward beside the float32 one while recording (heap memory of
 * about twice the recorded activations until the backward pass), and none without a tape.
 *
 * <p>A module whose input does not require grad and whose parameters are all frozen keeps nothing, computes no float64
 * forward and is skipped by the backward pass, as in torch (a module after it reads its float32 output as given). A
 * module that runs children ({@link Sequential}, or a module of one's own whose {@code forward} calls children through
 * {@code call}) keeps nothing; its backward is its children's. A {@link Linear} followed by an activation is not
 * fused while recording, so each keeps what its backward needs.
 *
 * <p>{@link #backward} runs the recorded calls in reverse, as torch's engine does for a tree of modules: each
 * module's backward pre-hooks when the gradient with respect to its output is known (they may replace it), its
 * backward, then its backward hooks with the gradient with respect to its input (they may replace it). A module whose
 * input does not require grad runs its backward hooks right after its pre-hooks, with a null input gradient, as torch
 * passes {@code (None,)}. Parameters' gradients accumulate into {@link Parameter#grad()} in float32 across backward
 * passes until {@link Module#zeroGrad} (each call's gradient computed in float64 and rounded once), or, on a tape made
 * with {@link GradientSums}, into those in float64. A tape runs one backward pass; record again for the next, as torch
 * frees the graph after {@code backward()}.
 *
 * <p>A hook that replaces a block during the forward pass (a forward pre-hook's input, a forward hook's output) is
 * differentiated as the identity: the gradient passes through it unchanged, since the tape cannot see what it did;
 * the modules after it read the replacement's float32 values.
 *
 * <p>A tape belongs to one thread (a task). Blocks it returns belong to it unless said otherwise; {@link #close}
 * frees them all.
 */
public final class GradientTape implements AutoCloseable {
  private final BufferAllocator allocator;
  /** Where the backward pass puts parameters' gradients. */
  private final GradientSink parameterGradients;
  /** The calls' begin and end marks, in the order the forward pass made them. */
  private final List<Mark> marks = new ArrayList<>();
  /** Every block known to require grad: watched inputs and the outputs of recorded calls that depend on one. */
  private final Set<FloatBlock> requiringGrad = Collections.newSetFromMap(new IdentityHashMap<>());
  private final List<FloatBlock> watched = new ArrayList<>();
  private final Map<FloatBlock, FloatBlock> inputGradients = new IdentityHashMap<>();
  private final List<Node> nodes = new ArrayList<>();
  /**
   * The float64 values of the blocks returned by recorded calls that computed them, until the backward pass: computed
   * when a later recorded call reads the block (or the module's backward needs its output), so that the last layer's
   * float64 output, which nothing reads, costs nothing.
   */
  private final Map<FloatBlock, Exact> exact = new IdentityHashMap<>();

  /** A block's float64 values, computed on first use. */
  private static final class Exact {
    private Supplier<Float64Block> compute;
    private Float64Block values;

    Exact(Supplier<Float64Block> compute) {
      this.compute = compute;
    }

    Float64Block get() {
      if (values == null) {
        values = compute.get();
        compute = null;
      }
      return values;
    }
  }
  /** The module of the first outermost call: names in error messages are relative to it. */
  private Module root;
  private int depth;
  private boolean backwardDone;
  private boolean closed;

  /**
   * A tape whose gradient blocks are allocated from {@code allocator} ({@link #close} frees them), and whose
   * backward pass accumulates parameters' gradients into {@link Parameter#grad()} in float32, as torch does.
   */
  public GradientTape(BufferAllocator allocator) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    this.parameterGradients = GradientSink.PARAMETER_GRAD;
  }

  /**
   * A tape whose backward pass adds parameters' gradients into {@code sums} in float64, and leaves
   * {@link Parameter#grad()} alone: for a caller that sums the gradients of many blocks and rounds once at the end
   * (see {@link GradientSums}).
   */
  public GradientTape(BufferAllocator allocator, GradientSums sums) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    this.parameterGradients = Objects.requireNonNull(sums, "sums").sink();
  }

  /**
   * Marks {@code input} as requiring grad, as torch's {@code x.requires_grad_()}: the backward pass then computes the
   * gradient with respect to it ({@link #inputGradient}), and modules that read it count as needing their input's
   * gradient. Call it before the forward pass that reads {@code input}.
   */
  public void watch(FloatBlock input) {
    checkOpen();
    Objects.requireNonNull(input, "input");
    if (requiringGrad.add(input)) {
      watched.add(input);
    }
  }

  /** Whether {@code block} requires grad: a watched input, or the output of a recorded call that depends on one. */
  public boolean requiresGrad(FloatBlock block) {
    return requiringGrad.contains(block);
  }

  // ----------------------------------------------------------------------------------------------------- recording

  /** One recorded call. */
  static final class Node {
    final Module module;
    /** The input the caller passed to {@code call}. */
    final FloatBlock callerInput;
    final List<BackwardPreHook> preHooks;
    final List<BackwardHook> hooks;
    /** The input {@code forward} saw (after forward pre-hooks). */
    FloatBlock input;
    /** What {@code forward} returned. */
    FloatBlock forwardOutput;
    /** What {@code call} returned (after forward hooks); null until then. */
    FloatBlock output;
    boolean inputRequiresGrad;
    boolean outputRequiresGrad;
    /** Whether the module computed its output itself (no recorded call inside it). */
    boolean leaf;
    boolean abandoned;
    Float64Block savedInput;
    Float64Block savedOutput;

    Node(Module module, FloatBlock callerInput, List<BackwardPreHook> preHooks, List<BackwardHook> hooks) {
      this.module = module;
      this.callerInput = callerInput;
      this.preHooks = preHooks;
      this.hooks = hooks;
    }
  }

  private record Mark(Node node, boolean end) {}

  /** {@code call} begins under this tape; {@code call} binds the backward hooks registered now. */
  Node open(Module module, FloatBlock input, List<BackwardPreHook> preHooks, List<BackwardHook> hooks) {
    checkOpen();
    if (backwardDone) {
      throw new IllegalStateException("This GradientTape has already run its backward pass; record on a new tape");
    }
    if (depth == 0 && root == null) {
      root = module;
    }
    depth++;
    Node node = new Node(module, input, preHooks, hooks);
    nodes.add(node);
    return node;
  }

  /** Runs the module's {@code forward} on {@code input} (the input after forward pre-hooks) and records it. */
  FloatBlock runForward(Node node, FloatBlock input, CallContext context) {
    node.input = input;
    node.inputRequiresGrad = requiringGrad.contains(input) || requiringGrad.contains(node.callerInput);
    if (node.inputRequiresGrad) {
      requiringGrad.add(input); // a forward pre-hook's replacement passes the gradient through
    }
    int begin = marks.size();
    marks.add(new Mark(node, false));
    FloatBlock output = node.module.forward(input, context);
    node.forwardOutput = output;
    node.leaf = marks.size() == begin + 1;
    if (node.leaf) {
      node.outputRequiresGrad = node.inputRequiresGrad || node.module.ownParameterRequiresGrad();
      int saves = node.module.savedForBackward();
      if (node.outputRequiresGrad && saves != Module.NO_BACKWARD) {
        Exact known = exact.get(input);
        // A block no recorded call computed is exact as it is: widened where a module needs float64.
        Float64Block exactInput = known != null ? known.get() : Float64Block.ofFloats(input);
        Exact exactOutput = new Exact(node.module.forward64Deferred(exactInput));
        exact.put(output, exactOutput);
        if ((saves & Module.SAVES_INPUT) != 0) {
          node.savedInput = exactInput;
        }
        if ((saves & Module.SAVES_OUTPUT) != 0) {
          node.savedOutput = exactOutput.get();
        }
      }
    } else {
      node.outputRequiresGrad = requiringGrad.contains(output);
    }
    if (node.outputRequiresGrad) {
      requiringGrad.add(output);
    }
    marks.add(new Mark(node, true));
    return output;
  }

  /** {@code call} returns {@code output} (after forward hooks). */
  void close(Node node, FloatBlock output) {
    depth--;
    node.output = output;
    if (node.outputRequiresGrad) {
      requiringGrad.add(output); // a forward hook's replacement passes the gradient through
    }
  }

  /** {@code call} failed: nothing of it takes part in a backward pass. */
  void abandon(Node node) {
    depth--;
    node.abandoned = true;
  }

  // ------------------------------------------------------------------------------------------------------ backward

  /**
   * Runs the backward pass from {@code output} (a block returned by a recorded call) with {@code gradOutput} as the
   * gradient of the loss with respect to it, as torch's {@code output.backward(grad_output)}: accumulates each
   * parameter's gradient (those that require grad), runs the backward hooks, and keeps the gradient of each watched
   * input for {@link #inputGradient}. {@code gradOutput} stays the caller's. Frees what the tape kept for it.
   *
   * @throws IllegalArgumentException when {@code output} does not require grad, or {@code gradOutput} does not have
   *     its shape
   * @throws IllegalStateException on a second call
   * @throws BackwardHookException when a backward hook fails, naming the module
   */
  public void backward(FloatBlock output, FloatBlock gradOutput) {
    checkOpen();
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(gradOutput, "gradOutput");
    if (backwardDone) {
      throw new IllegalStateException("Trying to backward through the graph a second time: a GradientTape runs one"
          + " backward pass; record the forward pass again on a new tape");
    }
    checkDifferentiable(output);
    checkSameShape("gradOutput", gradOutput, output);
    backwardDone = true;
    try {
      Map<FloatBlock, Float64Block> grads = new IdentityHashMap<>();
      grads.put(output, Float64Block.of(gradOutput));
      walk(grads, true);
      for (FloatBlock input : watched) {
        Float64Block grad = grads.get(input);
        if (grad != null) {
          inputGradients.put(input, grad.round(allocator));
        }
      }
    } finally {
      freeSaved();
    }
  }

  /**
   * The gradient of the loss with respect to a watched input after {@link #backward}, as torch's {@code x.grad}; null
   * when the backward pass did not reach it. The block belongs to the tape (valid until {@link #close}).
   */
  public FloatBlock inputGradient(FloatBlock input) {
    checkOpen();
    if (!watched.contains(input)) {
      throw new IllegalArgumentException("The block was not watched: call watch(input) before the forward pass");
    }
    return inputGradients.get(input);
  }

  /**
   * The gradient of output column {@code outputIndex} with respect to {@code input}, row by row: row {@code r} of the
   * result is {@code d output[r, outputIndex] / d input[r, :]} (rows are independent in every module here), a
   * saliency map. Unlike {@link #backward} it changes nothing: no parameter gradient, no backward hook, and the tape
   * can still run its backward pass. Usable from a forward hook, whose {@code output} and {@code input} have been
   * recorded by then:
   *
   * <pre>{@code
   * fc.registerForwardHook((module, in, out, context) -> {
   *   try (FloatBlock saliency = context.tape().inputGradient(out, 2, x)) { ... }
   *   return null;
   * });
   * }</pre>
   *
   * @param output a block returned by (or, in a forward hook, about to be returned by) a recorded call
   * @param input a watched input, or any recorded block that requires grad
   * @return a new block of {@code input}'s shape, from the tape's allocator; the caller closes it
   */
  public FloatBlock inputGradient(FloatBlock output, int outputIndex, FloatBlock input) {
    checkOpen();
    if (backwardDone) {
      throw new IllegalStateException("This GradientTape has already run its backward pass, which freed what it kept");
    }
    checkDifferentiable(output);
    if (!requiringGrad.contains(input)) {
      throw new IllegalArgumentException(
          "The input does not require grad: watch it (GradientTape.watch) before the forward pass");
    }
    if (outputIndex < 0 || outputIndex >= output.cols()) {
      throw new IndexOutOfBoundsException(
          "Output index " + outputIndex + " is out of bounds for an output of " + output.cols() + " columns");
    }
    Float64Block seed = new Float64Block(new double[output.rows() * output.cols()], output.rows(), output.cols());
    for (int r = 0; r < output.rows(); r++) {
      seed.values()[r * output.cols() + outputIndex] = 1;
    }
    Map<FloatBlock, Float64Block> grads = new IdentityHashMap<>();
    grads.put(output, seed);
    walk(grads, false);
    Float64Block result = grads.get(input);
    return result != null ? result.round(allocator) : FloatBlock.allocate(allocator, input.rows(), input.cols());
  }

  /**
   * The gradient of output column {@code outputIndex} of {@code module} with respect to {@code input}, row by row (see
   * {@link #inputGradient(FloatBlock, int, FloatBlock)}): runs the module once under a tape of its own, with its hooks,
   * and changes no parameter gradient. The caller closes the result, which is allocated from the input's allocator.
   */
  public static FloatBlock saliency(Module module, FloatBlock input, int outputIndex) {
    try (GradientTape tape = new GradientTape(input.allocator())) {
      tape.watch(input);
      try (FloatBlock output = module.call(input, CallContext.of(input).withTape(tape))) {
        return tape.inputGradient(output, outputIndex, input);
      }
    }
  }

  /** What one walk keeps per module that runs children, between its end mark and its begin mark. */
  private static final class Pending {
    /** The gradient of the module's output, for its backward hooks; null when it has none. */
    Float64Block gradOutput;
    /** Gradient of the module's input accumulated from outside the module, set aside meanwhile. */
    Float64Block outside;
  }

  /**
   * Runs the recorded calls in reverse, turning the gradients in {@code grads} (keyed by block) into those of the
   * blocks before them. {@code full}: hooks run and parameter gradients accumulate; otherwise only gradients flow.
   */
  private void walk(Map<FloatBlock, Float64Block> grads, boolean full) {
    Map<Node, Pending> pending = new IdentityHashMap<>();
    for (int i = marks.size() - 1; i >= 0; i--) {
      Mark mark = marks.get(i);
      Node node = mark.node;
      if (node.abandoned || !node.outputRequiresGrad) {
        continue;
      }
      if (mark.end) {
        walkEnd(node, grads, full, pending);
      } else if (!node.leaf) {
        walkBegin(node, grads, full, pending);
      }
    }
  }

  private void walkEnd(Node node, Map<FloatBlock, Float64Block> grads, boolean full, Map<Node, Pending> pending) {
    Float64Block grad = node.output == null ? null : grads.remove(node.output);
    if (node.forwardOutput != node.output) {
      Float64Block inner = grads.remove(node.forwardOutput);
      grad = grad == null ? inner : inner == null ? grad : grad.add(inner);
    }
    if (grad == null) {
      return; // no gradient reaches this call's output
    }
    if (full) {
      grad = runPreHooks(node, grad);
      if (!node.inputRequiresGrad) {
        runHooksWithoutInput(node, grad);
      }
    }
    if (node.leaf) {
      if (node.module.savedForBackward() == Module.NO_BACKWARD) {
        throw new UnsupportedOperationException(node.module.getName() + " has no backward, and its forward called"
            + " no module through call(): a module of one's own is differentiable when its forward only runs"
            + " children through their call()");
      }
      Float64Block gradInput = node.module.backward(node.savedInput, node.savedOutput, grad, node.inputRequiresGrad,
          full ? parameterGradients : null);
      if (gradInput != null) {
        if (full) {
          gradInput = runHooks(node, gradInput, grad);
        }
        accumulate(grads, node.callerInput, gradInput);
      }
    } else {
      Pending p = new Pending();
      pending.put(node, p);
      if (node.inputRequiresGrad) {
        p.outside = grads.remove(node.input);
        if (full && !node.hooks.isEmpty()) {
          p.gradOutput = grad.copy();
        }
      }
      accumulate(grads, node.forwardOutput, grad);
    }
  }

  private void walkBegin(Node node, Map<FloatBlock, Float64Block> grads, boolean full, Map<Node, Pending> pending) {
    Pending p = pending.remove(node);
    if (p == null || !node.inputRequiresGrad) {
      return;
    }
    Float64Block gradInput = grads.remove(node.input);
    if (p.outside != null) {
      grads.put(node.input, p.outside);
    }
    if (gradInput != null && full && p.gradOutput != null) {
      gradInput = runHooks(node, gradInput, p.gradOutput);
    }
    if (gradInput != null) {
      accumulate(grads, node.callerInput, gradInput);
    }
  }

  /**
   * Runs the module's backward pre-hooks on the gradient of its output, rounded to float32 as torch's hooks see it;
   * returns what they leave, or {@code grad} itself when there are none.
   */
  private Float64Block runPreHooks(Node node, Float64Block grad) {
    if (node.preHooks.isEmpty()) {
      return grad;
    }
    FloatBlock current = grad.round(allocator);
    try {
      for (BackwardPreHook hook : node.preHooks) {
        FloatBlock replacement;
        try {
          replacement = hook.apply(node.module, current);
        } catch (RuntimeException | Error e) {
          throw failure("backward pre-hook", node, e);
        }
        current = replace(node, "backward pre-hook", current, replacement);
      }
      return Float64Block.of(current);
    } finally {
      close(current);
    }
  }

  /**
   * Runs the module's backward hooks on the gradients of its input and output, rounded to float32 as torch's hooks see
   * them; returns the input's gradient they leave, or {@code gradInput} itself when there are none.
   */
  private Float64Block runHooks(Node node, Float64Block gradInput, Float64Block gradOutput) {
    if (node.hooks.isEmpty()) {
      return gradInput;
    }
    FloatBlock current = gradInput.round(allocator);
    try (FloatBlock output = gradOutput.round(allocator)) {
      for (BackwardHook hook : node.hooks) {
        FloatBlock replacement;
        try {
          replacement = hook.apply(node.module, current, output);
        } catch (RuntimeException | Error e) {
          throw failure("backward hook", node, e);
        }
        current = replace(node, "backward hook", current, replacement);
      }
      return Float64Block.of(current);
    } finally {
      close(current);
    }
  }

  private void runHooksWithoutInput(Node node, Float64Block gradOutput) {
    if (node.hooks.isEmpty()) {
      return;
    }
    try (FloatBlock output = gradOutput.round(allocator)) {
      for (BackwardHook hook : node.hooks) {
        FloatBlock replacement;
        try {
          replacement = hook.apply(node.module, null, output);
        } catch (RuntimeException | Error e) {
          throw failure("backward hook", node, e);
        }
        if (replacement != null) {
          if (replacement != output) {
            replacement.close();
          }
          // torch's message for the same mistake
          throw new BackwardHookException("backward hook of " + describe(node) + " returned a gradient: Backward hook"
              + " for Modules where no input requires gradient should always return None or None for all gradients.",
              null);
        }
      }
    }
  }

  /**
   * {@code current} or the hook's replacement of it, which must have its shape; the replaced block is closed. On a
   * wrong shape both are closed, and the caller must not close {@code current} again: it gets a closed block back
   * through the exception only, so callers close in a {@code finally} what this method last returned.
   */
  private FloatBlock replace(Node node, String kind, FloatBlock current, FloatBlock replacement) {
    if (replacement == null || replacement == current) {
      return current;
    }
    if (replacement.rows() != current.rows() || replacement.cols() != current.cols()) {
      String message = kind + " of " + describe(node) + " returned a gradient of shape [" + replacement.rows() + ", "
          + replacement.cols() + "], expected [" + current.rows() + ", " + current.cols() + "]";
      replacement.close();
      throw new BackwardHookException(message, null);
    }
    current.close();
    return replacement;
  }

  private BackwardHookException failure(String kind, Node node, Throwable cause) {
    return new BackwardHookException(kind + " of " + describe(node) + " failed: " + cause, cause);
  }

  /** {@code Linear(in_features=4, out_features=3, bias=True) at '0'}: the module and its name under the root. */
  private String describe(Node node) {
    Module module = node.module;
    String repr = module.children().isEmpty() ? module.toString() : module.getName();
    if (root == null) {
      return repr;
    }
    for (Map.Entry<String, Module> named : root.namedModules().entrySet()) {
      if (named.getValue() == module) {
        return repr + (named.getKey().isEmpty() ? " (the root module)" : " at '" + named.getKey() + "'");
      }
    }
    return repr;
  }

  /** Adds {@code grad} into the gradient kept for {@code block} (in float64), or keeps it there. */
  private static void accumulate(Map<FloatBlock, Float64Block> grads, FloatBlock block, Float64Block grad) {
    Float64Block existing = grads.get(block);
    grads.put(block, existing == null ? grad : existing.add(grad));
  }

  private void checkDifferentiable(FloatBlock output) {
    if (!requiringGrad.contains(output)) {
      // torch's message for the same mistake
      throw new IllegalArgumentException("element 0 of tensors does not require grad and does not have a grad_fn:"
          + " the block is not the output of a call recorded on this tape that depends on a parameter or a watched"
          + " input requiring grad");
    }
  }

  private static void checkSameShape(String what, FloatBlock block, FloatBlock like) {
    if (block.rows() != like.rows() || block.cols() != like.cols()) {
      throw new IllegalArgumentException("Mismatch in shape: " + what + " has a shape of "
          + Tensor.formatShape(block.rows(), block.cols()) + " and output has a shape of "
          + Tensor.formatShape(like.rows(), like.cols()));
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("This GradientTape is closed");
    }
  }

  /** How many float64 values the tape keeps for its backward pass now (each kept block counted once): for tests. */
  long keptValues() {
    Set<Float64Block> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Exact known : exact.values()) {
      if (known.values != null) {
        kept.add(known.values);
      }
    }
    for (Node node : nodes) {
      if (node.savedInput != null) {
        kept.add(node.savedInput);
      }
      if (node.savedOutput != null) {
        kept.add(node.savedOutput);
      }
    }
    return kept.stream().mapToLong(Float64Block::kept).sum();
  }

  /** Drops the float64 values kept for the backward pass. */
  private void freeSaved() {
    exact.clear();
    for (Node node : nodes) {
      node.savedInput = null;
      node.savedOutput = null;
    }
  }

  private static void close(FloatBlock block) {
    if (block != null) {
      block.close();
    }
  }

  /** Frees every block the tape kept: input gradients, and the float64 values kept for a backward pass. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    freeSaved();
    inputGradients.values().forEach(FloatBlock::close);
    inputGradients.clear();
    nodes.clear();
    marks.clear();
    requiringGrad.clear();
    watched.clear();
  }
}
