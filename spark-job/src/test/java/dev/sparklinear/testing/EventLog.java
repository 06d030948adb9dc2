package dev.sparklinear.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The events of one Spark application as its driver wrote them with {@code spark.eventLog.enabled=true}: one JSON
 * object per line, in one file or, with Spark 4's rolling event logs, in a folder {@code eventlog_v2_<app id>} of
 * {@code events_<n>_<app id>} files.
 *
 * <pre>{@code
 * EventLog log = EventLog.read(eventsDir);
 * List<EventLog.TaskEnd> failed = log.taskEnds().stream().filter(t -> !t.succeeded()).toList();
 * }</pre>
 */
public final class EventLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<JsonNode> events;

  private EventLog(List<JsonNode> events) {
    this.events = events;
  }

  /** Reads every event under {@code dir}, which must hold the log of exactly one application. */
  public static EventLog read(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile)
          .filter(p -> p.getFileName().toString().startsWith("app") || p.getFileName().toString().startsWith("events_"))
          .filter(p -> !p.getFileName().toString().startsWith("appstatus_"))
          .sorted()
          .toList();
    }
    if (files.isEmpty()) {
      throw new IOException("No event log files under " + dir);
    }
    List<JsonNode> events = new ArrayList<>();
    for (Path file : files) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          events.add(JSON.readTree(line));
        }
      }
    }
    return new EventLog(events);
  }

  /** Every event of the given type ({@code SparkListenerExecutorRemoved}, ...), in the order written. */
  public List<JsonNode> events(String type) {
    return events.stream().filter(e -> type.equals(e.path("Event").asText())).toList();
  }

  /** Every task attempt that ended, successful or not, in the order they ended. */
  public List<TaskEnd> taskEnds() {
    return events("SparkListenerTaskEnd").stream().map(TaskEnd::of).toList();
  }

  /** The highest stage id that any task ran in: the stage of the application's last job when stages run in turn. */
  public int lastStageId() {
    return taskEnds().stream().mapToInt(TaskEnd::stageId).max()
        .orElseThrow(() -> new IllegalStateException("No task ended in this application"));
  }

  /**
   * One ended task attempt.
   *
   * @param partition the partition (task index) the attempt computed
   * @param attempt the attempt number, 0 for the first
   * @param reason {@code Success}, {@code ExceptionFailure}, {@code ExecutorLostFailure}, ...
   * @param endReason the whole {@code Task End Reason} object, with the failure's class name and description
   */
  public record TaskEnd(int stageId, int stageAttempt, long taskId, int partition, int attempt, String executorId,
      String reason, JsonNode endReason) {

    static TaskEnd of(JsonNode event) {
      JsonNode info = event.path("Task Info");
      return new TaskEnd(event.path("Stage ID").asInt(), event.path("Stage Attempt ID").asInt(),
          info.path("Task ID").asLong(), info.path("Index").asInt(), info.path("Attempt").asInt(),
          info.path("Executor ID").asText(), event.path("Task End Reason").path("Reason").asText(),
          event.path("Task End Reason"));
    }

    public boolean succeeded() {
      return "Success".equals(reason);
    }
  }
}
