package dev.sparklinear.testing;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.spark.internal.io.FileCommitProtocol.TaskCommitMessage;
import org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol;
import scala.collection.immutable.Seq;

/**
 * Spark's default commit protocol, recording in this JVM which tasks it committed and which jobs, so that a local-mode
 * test can tell that a writer committed through the protocol the session names in
 * {@code spark.sql.sources.commitProtocolClass}.
 */
public final class RecordingCommitProtocol extends SQLHadoopMapReduceCommitProtocol {
  /** A job this protocol committed: its output path, the task commits it was given, the partitions it committed. */
  public record CommittedJob(String path, int messages, Set<Integer> committedPartitions) {
  }

  private static final Map<String, Set<Integer>> PARTITIONS_BY_JOB = new ConcurrentHashMap<>();
  private static final List<CommittedJob> JOBS = new CopyOnWriteArrayList<>();

  private final String jobId;
  private final String path;

  public RecordingCommitProtocol(String jobId, String path, boolean dynamicPartitionOverwrite) {
    super(jobId, path, dynamicPartitionOverwrite);
    this.jobId = jobId;
    this.path = path;
  }

  @Override
  public TaskCommitMessage commitTask(TaskAttemptContext context) {
    TaskCommitMessage message = super.commitTask(context);
    PARTITIONS_BY_JOB.computeIfAbsent(jobId, id -> ConcurrentHashMap.newKeySet())
        .add(context.getTaskAttemptID().getTaskID().getId());
    return message;
  }

  @Override
  public void commitJob(JobContext context, Seq<TaskCommitMessage> messages) {
    super.commitJob(context, messages);
    JOBS.add(new CommittedJob(path, messages.size(), Set.copyOf(PARTITIONS_BY_JOB.getOrDefault(jobId, Set.of()))));
  }

  /** The jobs committed since the last {@link #clear}, in order. */
  public static List<CommittedJob> jobs() {
    return List.copyOf(JOBS);
  }

  public static void clear() {
    JOBS.clear();
    PARTITIONS_BY_JOB.clear();
  }
}
