package dev.sparklinear.job.config;

import java.util.List;

/**
 * Thrown when a job config cannot be used, with every problem found at once so that a user can fix them all in one
 * go. The message lists the problems, one a line (a single problem stays on the message's one line);
 * {@link #problems()} gives them one by one.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final List<String> problems;

  ConfigException(String source, List<String> problems) {
    super(message(source, problems));
    this.source = source;
    this.problems = List.copyOf(problems);
  }

  private static String message(String source, List<String> problems) {
    return "Invalid job config " + source + (problems.size() == 1 ? ": " + problems.get(0)
        : " (" + problems.size() + " problems):\n  - " + String.join("\n  - ", problems));
  }

  /** The config file name (or the name given to {@link JobConfig#parse}). */
  public String source() {
    return source;
  }

  /** Each problem as one self-contained sentence: what is wrong, where, and what to do. */
  public List<String> problems() {
    return problems;
  }
}
