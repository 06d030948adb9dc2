package dev.sparklinear.job;

import java.util.List;

/** Every problem the driver found before starting any task, reported together so they can be fixed in one go. */
public final class PreflightException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  PreflightException(String config, List<String> problems) {
    super(message(config, problems));
    this.problems = List.copyOf(problems);
  }

  private static String message(String config, List<String> problems) {
    return "Cannot run " + config + ": " + (problems.size() == 1 ? problems.get(0)
        : problems.size() + " problems:\n  - " + String.join("\n  - ", problems));
  }

  public List<String> problems() {
    return problems;
  }
}
