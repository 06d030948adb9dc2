package dev.sparklinear.core.hooks;

import static dev.sparklinear.core.hooks.HookTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.hooks.BlockHook.Target;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.testing.LeakCheckingAllocator;
import org.junit.jupiter.api.Test;

class NanGuardTest {
  private static final float NAN = Float.NaN;
  private static final float INF = Float.POSITIVE_INFINITY;

  @Test
  void replaceDefaultsAreThoseOfTorchNanToNum() {
    float[][] y = run(NanGuard.replace(), new float[][] {{1f, NAN, INF, -INF, -2f}});
    assertThat(y[0]).containsExactly(1f, 0f, 3.4028235e38f, -3.4028235e38f, -2f);
  }

  @Test
  void replaceWritesTheGivenValues() {
    float[][] y = run(NanGuard.replace(-1f, 99f, -99f), new float[][] {{NAN, 2f}, {-INF, INF}});
    assertThat(y[0]).containsExactly(-1f, 2f);
    assertThat(y[1]).containsExactly(-99f, 99f);
  }

  @Test
  void failLeavesFiniteBlocksAlone() {
    float[][] x = {{1f, 2f}, {-3f, Float.MAX_VALUE}};
    assertThat(run(NanGuard.fail(), x)).isDeepEqualTo(x);
  }

  @Test
  void failOutsideAJobNamesRowAndColumnOfTheBlock() {
    assertThatThrownBy(() -> run(NanGuard.fail(), new float[][] {{1f, 2f}, {3f, NAN}}, Target.INPUTS))
        .isInstanceOf(NonFiniteValueException.class)
        .hasMessage("Non-finite value NaN in the module's inputs at row 1 of the block, column 1. The nan-guard hook"
            + " fails on NaN and infinities; set its action to replace to write replacement values instead, or"
            + " repair the data");
  }

  @Test
  void failInAJobNamesRowOfThePartitionAndTheBlock() {
    // 3000 rows x 7 columns: the bad value lies in the second heap chunk, so the chunk offset must be added.
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock block = FloatBlock.allocate(allocator, 3000, 7)) {
      block.set(2999, 4, -INF);
      CallContext context = CallContext.of(3000, 3, 2, 8000, allocator);
      assertThatThrownBy(() -> NanGuard.fail().transform(block, Target.OUTPUTS, context))
          .isInstanceOfSatisfying(NonFiniteValueException.class, e -> {
            assertThat(e.rowInBlock()).isEqualTo(2999);
            assertThat(e.rowInPartition()).isEqualTo(10999);
            assertThat(e.column()).isEqualTo(4);
            assertThat(e.target()).isEqualTo(Target.OUTPUTS);
            assertThat(e.withRowKey("(id=42)")).hasMessage("Non-finite value -Infinity in the module's outputs at"
                + " row 10999 of partition 3 (id=42), column 4 (row 2999 of block 2). The nan-guard hook fails on"
                + " NaN and infinities; set its action to replace to write replacement values instead, or repair"
                + " the data");
          })
          .hasMessageStartingWith("Non-finite value -Infinity in the module's outputs at row 10999 of partition 3,"
              + " column 4 (row 2999 of block 2).");
    }
  }

  @Test
  void failWithoutFirstRowNamesBlockAndPartition() {
    try (LeakCheckingAllocator allocator = new LeakCheckingAllocator();
        FloatBlock block = FloatBlock.copyOf(allocator, new float[][] {{INF}})) {
      assertThatThrownBy(() -> NanGuard.fail().transform(block, Target.INPUTS, CallContext.of(1, 0, 5, allocator)))
          .hasMessageStartingWith("Non-finite value Infinity in the module's inputs at row 0 of block 5 of partition"
              + " 0, column 0.");
    }
  }
}
