package dev.sparklinear.it.hooks;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskKilled;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A listener for the driver of {@code spark-linear fit} that kills one running task attempt of an epoch with
 * {@link SparkContext#killTaskAttempt(long, boolean, String)} ("kill and reschedule the given task attempt"), as an
 * operator would from the UI, and leaves the executor running. Registered with {@code --conf
 * spark.extraListeners=dev.sparklinear.it.hooks.KillOneTaskListener}; its jar goes to the driver with {@code --jars}.
 *
 * <pre>{@code
 * --conf spark.sparklinear.test.kill.epoch=3      # the epoch whose task it kills (default 3)
 * --conf spark.sparklinear.test.kill.partition=1  # the partition of that task (default 1)
 * --conf spark.sparklinear.test.kill.max-tries=10 # epochs it tries before giving up (default 10)
 * }</pre>
 *
 * <p>An epoch stage is one that reads a persisted RDD which an earlier stage already read: the stage that reads the
 * input and caches it is not one, every later stage over the cached blocks is. The first attempt (attempt 0) of the
 * chosen partition's task is killed, with the thread interrupted, as soon as the driver posts its start. The task of
 * a small epoch takes milliseconds, so the kill may reach the executor after the task has sent its result; the kill
 * then does nothing and the attempt ends in success. In that case, and only then, the listener tries the same
 * partition in the next epoch, so that at most one attempt is ever killed. Each try, and how it ended, is a line on
 * the driver's stderr starting with {@value #LOG_PREFIX}.
 *
 * <p>Spark calls listeners on one thread of its listener bus, in the order of the events; so is this one's state.
 */
public class KillOneTaskListener extends SparkListener {
  /** The reason given to {@code killTaskAttempt}; the event log's {@code Kill Reason} of the killed attempt. */
  public static final String REASON = "killed on purpose by KillOneTaskListener";
  /** Starts every line this listener writes to stderr. */
  public static final String LOG_PREFIX = "KillOneTaskListener:";

  public static final String EPOCH = "spark.sparklinear.test.kill.epoch";
  public static final String PARTITION = "spark.sparklinear.test.kill.partition";
  public static final String MAX_TRIES = "spark.sparklinear.test.kill.max-tries";

  private final int epoch;
  private final int partition;
  private final int maxTries;
  /** Ids of the persisted RDDs that a stage has read so far. */
  private final Set<Integer> persistedRddsRead = new HashSet<>();
  /** The epoch stages by stage id: 1 for the first stage over the cached blocks, and so on. */
  private final Map<Integer, Integer> epochOfStage = new HashMap<>();
  private int epochStages;
  private SparkContext context;
  private int tries;
  /** The task attempt killed last and not ended yet, or -1. */
  private long pending = -1;
  private boolean killed;

  public KillOneTaskListener(SparkConf conf) {
    epoch = conf.getInt(EPOCH, 3);
    partition = conf.getInt(PARTITION, 1);
    maxTries = conf.getInt(MAX_TRIES, 10);
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted event) {
    if (context == null) {
      // A stage runs only in the active context: this is the driver's own, never a new one.
      context = SparkContext.getOrCreate();
    }
    StageInfo stage = event.stageInfo();
    boolean readsCache = false;
    for (RDDInfo rdd : CollectionConverters.asJava(stage.rddInfos())) {
      StorageLevel level = rdd.storageLevel();
      if (level.useMemory() || level.useDisk() || level.useOffHeap()) {
        readsCache |= !persistedRddsRead.add(rdd.id());
      }
    }
    if (readsCache && stage.attemptNumber() == 0) {
      epochOfStage.put(stage.stageId(), ++epochStages);
    }
  }

  @Override
  public void onTaskStart(SparkListenerTaskStart event) {
    TaskInfo task = event.taskInfo();
    Integer epochOfTask = epochOfStage.get(event.stageId());
    if (killed || pending >= 0 || tries >= maxTries || epochOfTask == null || epochOfTask < epoch
        || task.index() != partition || task.attemptNumber() != 0) {
      return;
    }
    tries++;
    pending = task.taskId();
    boolean accepted = context.killTaskAttempt(task.taskId(), true, REASON);
    System.err.printf("%s try %d: killTaskAttempt(TID %d) = %s: epoch %d, stage %d, partition %d, attempt %d,"
        + " executor %s%n", LOG_PREFIX, tries, task.taskId(), accepted, epochOfTask, event.stageId(), task.index(),
        task.attemptNumber(), task.executorId());
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    TaskInfo task = event.taskInfo();
    if (task.taskId() != pending) {
      return;
    }
    pending = -1;
    killed = event.reason() instanceof TaskKilled;
    System.err.printf("%s TID %d ended: %s%s%n", LOG_PREFIX, task.taskId(),
        killed ? "killed" : "not killed (" + event.reason() + ")",
        killed || tries < maxTries ? "" : "; giving up after " + tries + " tries");
  }
}
