package dev.sparklinear.it.hooks;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.Module;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.TaskContext;

/**
 * A forward hook that makes the first attempt (attempt number 0) of the tasks of some partitions fail, and lets
 * every other attempt through unchanged. It fails at block {@code fail-at-block} of the partition (default 1), so that
 * the failed attempt has already handed rows to the writer: a retry must not leave them in the output twice.
 *
 * <pre>{@code
 * hooks.forward: [{class: dev.sparklinear.it.hooks.FailFirstAttemptHook, partitions: "0,2", fail-at-block: 1}]
 * }</pre>
 */
public class FailFirstAttemptHook implements ForwardHook {
  /** Starts the message of every failure it injects, for tests to find in the logs. */
  public static final String MESSAGE = "Injected failure of the first attempt";

  private final Set<Integer> partitions;
  private final long failAtBlock;

  public FailFirstAttemptHook(Map<String, String> params) {
    String listed = params.get("partitions");
    if (listed == null || listed.isBlank()) {
      throw new IllegalArgumentException("FailFirstAttemptHook needs partitions, e.g. partitions: \"0,2\"");
    }
    partitions = Arrays.stream(listed.split(",")).map(String::trim).map(Integer::valueOf)
        .collect(Collectors.toUnmodifiableSet());
    failAtBlock = Long.parseLong(params.getOrDefault("fail-at-block", "1"));
  }

  @Override
  public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
    TaskContext task = TaskContext.get();
    if (task != null && task.attemptNumber() == 0 && partitions.contains(task.partitionId())
        && context.blockIndex() == failAtBlock) {
      throw new IllegalStateException(MESSAGE + ": partition " + task.partitionId() + ", block "
          + context.blockIndex() + ", stage " + task.stageId() + ", TID " + task.taskAttemptId());
    }
    return null;
  }
}
