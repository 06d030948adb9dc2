package dev.sparklinear.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The call pipeline of {@link Module}: one test per rule of PyTorch's hook semantics, plus modes and repr. */
class ModuleTest {
  private LeakCheckingAllocator allocator;
  /** What the hooks of a test did, in order. */
  private final List<String> log = new ArrayList<>();
  /** Global hooks registered by a test; removed after each test so that none leaks into the next. */
  private final List<RemovableHandle> globalHandles = new ArrayList<>();

  @BeforeEach
  void openAllocator() {
    allocator = new LeakCheckingAllocator();
  }

  @AfterEach
  void removeGlobalHooksAndCloseAllocator() {
    globalHandles.forEach(RemovableHandle::remove);
    assertThat(allocator.getAllocatedMemory()).as("bytes left allocated by the test").isZero();
    allocator.close();
  }

  // ------------------------------------------------------------------------------------------- test-local modules

  /** {@code y = 2x}, element by element: an output every test can predict by hand. */
  static final class Doubler extends Module {
    private static final long serialVersionUID = 1L;
    final AtomicInteger forwardCalls = new AtomicInteger();
    final AtomicReference<CallContext> lastContext = new AtomicReference<>();
    final AtomicReference<float[]> lastInput = new AtomicReference<>();

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      forwardCalls.incrementAndGet();
      lastContext.set(context);
      lastInput.set(input.toArray());
      FloatBlock out = FloatBlock.allocate(context.allocator(), input.rows(), input.cols());
      for (int r = 0; r < input.rows(); r++) {
        for (int c = 0; c < input.cols(); c++) {
          out.set(r, c, 2 * input.get(r, c));
        }
      }
      return out;
    }
  }

  /** A module whose forward always throws the same exception, so a test can check that exactly it is rethrown. */
  static final class Failing extends Module {
    private static final long serialVersionUID = 1L;
    final IllegalStateException failure = new IllegalStateException("forward failed");

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      throw failure;
    }
  }

  /** Two layers in a row, as {@code class Net(nn.Module)} with {@code fc1} and {@code fc2}. */
  static final class Net extends Module {
    private static final long serialVersionUID = 1L;
    final Linear fc1 = new Linear(4, 3, true, 1L);
    final Linear fc2 = new Linear(3, 2, false, 2L);

    Net() {
      registerModule("fc1", fc1);
      registerModule("fc2", fc2);
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      try (FloatBlock hidden = fc1.call(input, context)) {
        return fc2.call(hidden, context);
      }
    }
  }

  /** A module holding one {@link Net}, to see how nested reprs indent. */
  static final class Outer extends Module {
    private static final long serialVersionUID = 1L;

    Outer() {
      registerModule("net", new Net());
    }

    @Override
    protected FloatBlock forward(FloatBlock input, CallContext context) {
      return namedChildren().get("net").call(input, context);
    }
  }

  /** A pre-hook that logs {@code name} and returns a new block holding the input plus {@code delta}. */
  private ForwardPreHook addingPreHook(String name, float delta) {
    return (module, input, context) -> {
      log.add(name);
      return plus(input, delta, context);
    };
  }

  /** A forward hook that logs {@code name} and returns a new block holding the output plus {@code delta}. */
  private ForwardHook addingForwardHook(String name, float delta) {
    return (module, input, output, context) -> {
      log.add(name);
      return plus(output, delta, context);
    };
  }

  private ForwardPreHook loggingPreHook(String name) {
    return (module, input, context) -> {
      log.add(name);
      return null;
    };
  }

  private ForwardHook loggingForwardHook(String name) {
    return (module, input, output, context) -> {
      log.add(name + (output == null ? "(no output)" : ""));
      return null;
    };
  }

  private static FloatBlock plus(FloatBlock block, float delta, CallContext context) {
    FloatBlock out = FloatBlock.allocate(context.allocator(), block.rows(), block.cols());
    for (int r = 0; r < block.rows(); r++) {
      for (int c = 0; c < block.cols(); c++) {
        out.set(r, c, block.get(r, c) + delta);
      }
    }
    return out;
  }

  private float[] callOnRow(Module module, float... row) {
    try (FloatBlock x = FloatBlock.ofRow(allocator, row);
        FloatBlock y = module.call(x)) {
      return y.row(0);
    }
  }

  // ------------------------------------------------------------------------------------------------- replacement

  @Test
  void preHookResultReplacesInput() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(addingPreHook("pre", 10));
    assertThat(callOnRow(m, 1, 2)).containsExactly(22, 24);
    assertThat(m.lastInput.get()).as("forward saw the replacement").containsExactly(11, 12);
  }

  @Test
  void preHookReturningNullKeepsInput() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(loggingPreHook("pre"));
    assertThat(callOnRow(m, 1, 2)).containsExactly(2, 4);
    assertThat(log).containsExactly("pre");
  }

  @Test
  void preHookMayChangeItsInputInPlaceAndReturnIt() {
    Doubler m = new Doubler();
    m.registerForwardPreHook((module, input, context) -> {
      input.set(0, 0, 5);
      return input;
    });
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1, 2);
        FloatBlock y = m.call(x)) {
      assertThat(y.row(0)).containsExactly(10, 4);
      assertThat(x.row(0)).as("the caller's input is still open, not closed as a replaced block").containsExactly(5, 2);
    }
  }

  @Test
  void forwardHookResultReplacesOutput() {
    Doubler m = new Doubler();
    m.registerForwardHook(addingForwardHook("hook", 0.5f));
    assertThat(callOnRow(m, 1, 2)).containsExactly(2.5f, 4.5f);
  }

  @Test
  void forwardHookReturningNullKeepsOutput() {
    Doubler m = new Doubler();
    m.registerForwardHook(loggingForwardHook("hook"));
    assertThat(callOnRow(m, 1, 2)).containsExactly(2, 4);
    assertThat(log).containsExactly("hook");
  }

  @Test
  void forwardHookSeesInputAfterPreHooksAndOutputOfForward() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(addingPreHook("pre", 1));
    List<float[]> seen = new ArrayList<>();
    m.registerForwardHook((module, input, output, context) -> {
      seen.add(input.toArray());
      seen.add(output.toArray());
      return null;
    });
    callOnRow(m, 1, 2);
    assertThat(seen).containsExactly(new float[] {2, 3}, new float[] {4, 6});
  }

  @Test
  void replacementsChainFromHookToHook() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(addingPreHook("pre1", 1));
    m.registerForwardPreHook(addingPreHook("pre2", 10));
    m.registerForwardHook(addingForwardHook("hook1", 100));
    m.registerForwardHook(addingForwardHook("hook2", 1000));
    // ((1 + 1 + 10) * 2 + 100) + 1000
    assertThat(callOnRow(m, 1)).containsExactly(1124);
  }

  // ----------------------------------------------------------------------------------------------------- ordering

  @Test
  void hooksRunInRegistrationOrder() {
    Doubler m = new Doubler();
    m.registerForwardHook(loggingForwardHook("hook1"));
    m.registerForwardPreHook(loggingPreHook("pre1"));
    m.registerForwardHook(loggingForwardHook("hook2"));
    m.registerForwardPreHook(loggingPreHook("pre2"));
    callOnRow(m, 1);
    assertThat(log).containsExactly("pre1", "pre2", "hook1", "hook2");
  }

  @Test
  void prependPutsHookFirst() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(loggingPreHook("pre1"));
    m.registerForwardPreHook(loggingPreHook("pre0"), HookOption.PREPEND);
    m.registerForwardHook(loggingForwardHook("hook1"));
    m.registerForwardHook(loggingForwardHook("hook2"));
    m.registerForwardHook(loggingForwardHook("hook0"), HookOption.PREPEND);
    callOnRow(m, 1);
    assertThat(log).containsExactly("pre0", "pre1", "hook0", "hook1", "hook2");
  }

  @Test
  void globalHooksRunBeforeModuleHooks() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(loggingPreHook("pre"));
    m.registerForwardHook(loggingForwardHook("hook"));
    globalHandles.add(Module.registerGlobalForwardPreHook(loggingPreHook("globalPre")));
    globalHandles.add(Module.registerGlobalForwardHook(loggingForwardHook("globalHook")));
    callOnRow(m, 1);
    assertThat(log).containsExactly("globalPre", "pre", "globalHook", "hook");
  }

  @Test
  void globalHooksRunForEveryModule() {
    globalHandles.add(Module.registerGlobalForwardHook((module, input, output, context) -> {
      log.add(module.getName());
      return null;
    }));
    callOnRow(new Net(), 1, 2, 3, 4);
    assertThat(log).as("children finish first, as in PyTorch").containsExactly("Linear", "Linear", "Net");
  }

  @Test
  void globalPrependPutsGlobalHookFirst() {
    globalHandles.add(Module.registerGlobalForwardPreHook(loggingPreHook("global1")));
    globalHandles.add(Module.registerGlobalForwardPreHook(loggingPreHook("global0"), HookOption.PREPEND));
    callOnRow(new Doubler(), 1);
    assertThat(log).containsExactly("global0", "global1");
  }

  // ------------------------------------------------------------------------------------------------------ handles

  @Test
  void removedHookIsNotCalled() {
    Doubler m = new Doubler();
    RemovableHandle pre = m.registerForwardPreHook(loggingPreHook("pre"));
    RemovableHandle hook = m.registerForwardHook(loggingForwardHook("hook"));
    m.registerForwardHook(loggingForwardHook("kept"));
    pre.remove();
    hook.remove();
    callOnRow(m, 1);
    assertThat(log).containsExactly("kept");
  }

  @Test
  void removingHandleTwiceIsHarmless() {
    Doubler m = new Doubler();
    RemovableHandle first = m.registerForwardHook(loggingForwardHook("first"));
    m.registerForwardHook(loggingForwardHook("second"));
    first.remove();
    first.remove();
    first.close();
    callOnRow(m, 1);
    assertThat(log).as("removing again does not remove another hook").containsExactly("second");
  }

  @Test
  void handleInTryWithResourcesRemovesHook() {
    Doubler m = new Doubler();
    try (RemovableHandle handle = m.registerForwardHook(loggingForwardHook("scoped"))) {
      callOnRow(m, 1);
    }
    callOnRow(m, 1);
    assertThat(log).containsExactly("scoped");
  }

  @Test
  void removedGlobalHookIsNotCalled() {
    RemovableHandle handle = Module.registerGlobalForwardHook(loggingForwardHook("global"));
    globalHandles.add(handle);
    callOnRow(new Doubler(), 1);
    handle.remove();
    callOnRow(new Doubler(), 1);
    assertThat(log).containsExactly("global");
  }

  @Test
  void afterAllHooksAreRemovedCallIsPlainForward() {
    Doubler m = new Doubler();
    AtomicInteger hookCalls = new AtomicInteger();
    RemovableHandle pre = m.registerForwardPreHook(addingPreHook("pre", 1));
    RemovableHandle hook = m.registerForwardHook((module, input, output, context) -> {
      hookCalls.incrementAndGet();
      return plus(output, 1, context);
    }, HookOption.ALWAYS_CALL);
    RemovableHandle global = Module.registerGlobalForwardHook(loggingForwardHook("global"));
    globalHandles.add(global);
    assertThat(callOnRow(m, 1, 2)).containsExactly(5, 7);

    pre.remove();
    hook.remove();
    global.remove();
    log.clear();

    assertThat(callOnRow(m, 1, 2)).containsExactly(2, 4);
    assertThat(hookCalls).hasValue(1);
    assertThat(log).isEmpty();
    assertThat(m.forwardCalls).hasValue(2);
  }

  @Test
  void rejectsNullHook() {
    Doubler m = new Doubler();
    assertThatThrownBy(() -> m.registerForwardHook(null)).isInstanceOf(NullPointerException.class).hasMessage("hook");
    assertThatThrownBy(() -> m.registerForwardPreHook(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("hook");
  }

  // ------------------------------------------------------------------------------------------------- always_call

  @Test
  void alwaysCallHookRunsWhenForwardThrows() {
    Failing m = new Failing();
    m.registerForwardHook(loggingForwardHook("always"), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      Throwable thrown = catchThrowable(() -> m.call(x));
      assertThat(thrown).isSameAs(m.failure);
    }
    assertThat(log).containsExactly("always(no output)");
  }

  @Test
  void alwaysCallHookRunsWhenPreHookThrows() {
    Doubler m = new Doubler();
    IllegalStateException preFailure = new IllegalStateException("pre-hook failed");
    m.registerForwardPreHook((module, input, context) -> {
      throw preFailure;
    });
    m.registerForwardHook(loggingForwardHook("always"), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      assertThat(catchThrowable(() -> m.call(x))).isSameAs(preFailure);
    }
    assertThat(log).containsExactly("always(no output)");
    assertThat(m.forwardCalls).as("forward is not run after a pre-hook failed").hasValue(0);
  }

  @Test
  void globalAlwaysCallHookRunsWhenForwardThrows() {
    Failing m = new Failing();
    globalHandles.add(Module.registerGlobalForwardHook(loggingForwardHook("global"), HookOption.ALWAYS_CALL));
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      assertThat(catchThrowable(() -> m.call(x))).isSameAs(m.failure);
    }
    assertThat(log).containsExactly("global(no output)");
  }

  @Test
  void alwaysCallHookFailureIsAttachedAsSuppressed() {
    Failing m = new Failing();
    IllegalArgumentException hookFailure = new IllegalArgumentException("hook failed too");
    m.registerForwardHook((module, input, output, context) -> {
      throw hookFailure;
    }, HookOption.ALWAYS_CALL);
    m.registerForwardHook(loggingForwardHook("later always"), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      Throwable thrown = catchThrowable(() -> m.call(x));
      assertThat(thrown).isSameAs(m.failure).hasMessage("forward failed");
      assertThat(thrown.getSuppressed()).containsExactly(hookFailure);
    }
    assertThat(log).as("a failing always-call hook does not stop the next one").containsExactly("later always(no output)");
  }

  @Test
  void hooksWithoutAlwaysCallDoNotRunOnFailure() {
    Failing m = new Failing();
    m.registerForwardHook(loggingForwardHook("plain"));
    globalHandles.add(Module.registerGlobalForwardHook(loggingForwardHook("global plain")));
    m.registerForwardHook(loggingForwardHook("always"), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      assertThat(catchThrowable(() -> m.call(x))).isSameAs(m.failure);
    }
    assertThat(log).containsExactly("always(no output)");
  }

  @Test
  void alwaysCallHookThatAlreadyRanIsNotRunAgainWhenLaterHookThrows() {
    Doubler m = new Doubler();
    RuntimeException laterFailure = new RuntimeException("later hook failed");
    m.registerForwardHook(loggingForwardHook("always before"), HookOption.ALWAYS_CALL);
    m.registerForwardHook((module, input, output, context) -> {
      log.add("failing");
      throw laterFailure;
    });
    m.registerForwardHook(loggingForwardHook("always after"), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1)) {
      assertThat(catchThrowable(() -> m.call(x))).isSameAs(laterFailure);
    }
    assertThat(log).containsExactly("always before", "failing", "always after");
  }

  @Test
  void alwaysCallHookSeesForwardOutputWhenALaterHookThrows() {
    Doubler m = new Doubler();
    List<float[]> seen = new ArrayList<>();
    m.registerForwardHook((module, input, output, context) -> {
      throw new IllegalStateException("first hook failed");
    });
    m.registerForwardHook((module, input, output, context) -> {
      seen.add(output.toArray());
      return null;
    }, HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 3)) {
      assertThat(catchThrowable(() -> m.call(x))).hasMessage("first hook failed");
    }
    assertThat(seen).containsExactly(new float[] {6});
  }

  @Test
  void alwaysCallIsRejectedOnPreHooks() {
    Doubler m = new Doubler();
    assertThatThrownBy(() -> m.registerForwardPreHook(loggingPreHook("pre"), HookOption.ALWAYS_CALL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ALWAYS_CALL applies to forward hooks only, not to forward pre-hooks");
    assertThatThrownBy(() -> Module.registerGlobalForwardPreHook(loggingPreHook("pre"), HookOption.ALWAYS_CALL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ALWAYS_CALL applies to forward hooks only, not to forward pre-hooks");
    callOnRow(m, 1);
    assertThat(log).as("a rejected hook is not registered").isEmpty();
  }

  // --------------------------------------------------------------------------------------------- context, memory

  @Test
  void hooksAndForwardReceiveModuleAndCallContext() {
    Doubler m = new Doubler();
    List<Object> seen = new ArrayList<>();
    m.registerForwardPreHook((module, input, context) -> {
      seen.add(module);
      seen.add(context);
      return null;
    });
    m.registerForwardHook((module, input, output, context) -> {
      seen.add(module);
      seen.add(context);
      return null;
    });
    CallContext context = CallContext.of(2, 7, 42L, allocator);
    try (FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1}, {2}});
        FloatBlock y = m.call(x, context)) {
      assertThat(y.toArray()).containsExactly(2, 4);
    }
    assertThat(seen).containsExactly(m, context, m, context);
    assertThat(m.lastContext.get()).isSameAs(context);
    assertThat(context.rows()).isEqualTo(2);
    assertThat(context.partitionId()).isEqualTo(7);
    assertThat(context.blockIndex()).isEqualTo(42L);
    assertThat(context.allocator()).isSameAs(allocator);
    assertThat(context).hasToString("CallContext(rows=2, partition=7, block=42)");
  }

  @Test
  void callWithoutContextDescribesTheInputBlock() {
    Doubler m = new Doubler();
    try (FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1}, {2}, {3}});
        FloatBlock y = m.call(x)) {
      CallContext context = m.lastContext.get();
      assertThat(context.rows()).isEqualTo(3);
      assertThat(context.partitionId()).isEqualTo(CallContext.UNKNOWN);
      assertThat(context.blockIndex()).isEqualTo(CallContext.UNKNOWN);
      assertThat(context.allocator()).isSameAs(allocator);
      assertThat(y.allocator()).isSameAs(allocator);
    }
  }

  @Test
  void callOnEmptyBlockAllocatesFromTheCallersAllocator() {
    Doubler m = new Doubler();
    try (FloatBlock x = FloatBlock.allocate(allocator, 0, 2);
        FloatBlock y = m.call(x)) {
      assertThat(y.rows()).isZero();
      assertThat(m.lastContext.get().rows()).isZero();
      assertThat(m.lastContext.get().allocator()).isSameAs(allocator);
      assertThat(y.allocator()).isSameAs(allocator);
    }
  }

  @Test
  void blocksReplacedByHooksAreClosedByThePipeline() {
    Doubler m = new Doubler();
    m.registerForwardPreHook(addingPreHook("pre1", 1));
    m.registerForwardPreHook(addingPreHook("pre2", 1));
    m.registerForwardHook(addingForwardHook("hook1", 1));
    m.registerForwardHook(addingForwardHook("hook2", 1));
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1, 2, 3)) {
      long inputBytes = allocator.getAllocatedMemory();
      try (FloatBlock y = m.call(x)) {
        assertThat(y.row(0)).containsExactly(8, 10, 12);
        assertThat(allocator.getAllocatedMemory())
            .as("only the input and the final output remain")
            .isEqualTo(2 * inputBytes);
      }
    }
    assertThat(allocator.getAllocatedMemory()).isZero();
  }

  @Test
  void blocksMadeByHooksAreClosedWhenTheCallFails() {
    Failing m = new Failing();
    m.registerForwardPreHook(addingPreHook("pre", 1));
    m.registerForwardHook(addingForwardHook("always", 1), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1, 2, 3)) {
      long inputBytes = allocator.getAllocatedMemory();
      // The always-call hook gets a null output and, like PyTorch's, must cope with it; here it fails on it.
      Throwable thrown = catchThrowable(() -> m.call(x));
      assertThat(thrown).isSameAs(m.failure);
      assertThat(thrown.getSuppressed()).singleElement().isInstanceOf(NullPointerException.class);
      assertThat(allocator.getAllocatedMemory()).as("the pre-hook's block was closed").isEqualTo(inputBytes);
    }
  }

  @Test
  void outputOfAnAlwaysCallHookAfterAFailureIsClosed() {
    Failing m = new Failing();
    m.registerForwardHook((module, input, output, context) -> plus(input, 1, context), HookOption.ALWAYS_CALL);
    try (FloatBlock x = FloatBlock.ofRow(allocator, 1, 2, 3)) {
      long inputBytes = allocator.getAllocatedMemory();
      Throwable thrown = catchThrowable(() -> m.call(x));
      assertThat(thrown).isSameAs(m.failure);
      assertThat(thrown.getSuppressed()).as("replacing a missing output is not an error").isEmpty();
      assertThat(allocator.getAllocatedMemory()).isEqualTo(inputBytes);
    }
  }

  // --------------------------------------------------------------------------------------------- modes and repr

  @Test
  void trainAndEvalPropagateToChildren() {
    Net net = new Net();
    assertThat(net.isTraining()).as("modules start in training mode, as in PyTorch").isTrue();
    assertThat(net.eval()).isSameAs(net);
    assertThat(List.of(net.isTraining(), net.fc1.isTraining(), net.fc2.isTraining())).containsOnly(false);
    net.train();
    assertThat(List.of(net.isTraining(), net.fc1.isTraining(), net.fc2.isTraining())).containsOnly(true);
    net.train(false);
    assertThat(List.of(net.isTraining(), net.fc1.isTraining(), net.fc2.isTraining())).containsOnly(false);
  }

  @Test
  void trainOnChildDoesNotChangeParent() {
    Net net = new Net();
    net.fc1.eval();
    assertThat(net.isTraining()).isTrue();
    assertThat(net.fc1.isTraining()).isFalse();
    assertThat(net.fc2.isTraining()).isTrue();
  }

  @Test
  void toStringOfCompositeIsNestedLikePyTorch() {
    assertThat(new Net()).hasToString(
        "Net(\n"
            + "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
            + "  (fc2): Linear(in_features=3, out_features=2, bias=False)\n"
            + ")");
  }

  @Test
  void toStringIndentsGrandchildren() {
    assertThat(new Outer()).hasToString(
        "Outer(\n"
            + "  (net): Net(\n"
            + "    (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
            + "    (fc2): Linear(in_features=3, out_features=2, bias=False)\n"
            + "  )\n"
            + ")");
  }

  @Test
  void toStringOfModuleWithoutChildrenOrExtraReprIsEmptyParentheses() {
    assertThat(new Doubler()).hasToString("Doubler()");
  }

  // ------------------------------------------------------------------------------------------ names and children

  @Test
  void namedChildrenAreInRegistrationOrder() {
    Net net = new Net();
    assertThat(net.namedChildren()).containsExactly(
        org.assertj.core.api.Assertions.entry("fc1", net.fc1), org.assertj.core.api.Assertions.entry("fc2", net.fc2));
  }

  @Test
  void compositeForwardRunsChildrenThroughTheirPipelines() {
    Net net = new Net();
    net.fc1.setWeight(new Parameter(Tensor.of(new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}})));
    net.fc1.setBias(new Parameter(Tensor.of(0f, 0f, 0f)));
    net.fc2.setWeight(new Parameter(Tensor.of(new float[][] {{1, 1, 1}, {1, -1, 0}})));
    net.fc1.registerForwardHook(addingForwardHook("fc1 hook", 1));
    // fc1: [1, 2, 3] + 1 = [2, 3, 4]; fc2: [9, -1]
    assertThat(callOnRow(net, 1, 2, 3, 4)).containsExactly(9, -1);
  }

  @Test
  void rejectsDottedOrEmptyNames() {
    assertThatThrownBy(() -> new Module() {
      {
        registerParameter("a.b", new Parameter(Tensor.of(1f)));
      }

      @Override
      protected FloatBlock forward(FloatBlock input, CallContext context) {
        return null;
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessage("parameter name can't be empty or contain \".\", got: a.b");
    assertThatThrownBy(() -> new Module() {
      {
        registerModule("", new Doubler());
      }

      @Override
      protected FloatBlock forward(FloatBlock input, CallContext context) {
        return null;
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessage("module name can't be empty or contain \".\", got: ");
  }
}
