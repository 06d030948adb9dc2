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
    StringBuilder sb = new StringBuilder("Cannot run ").append(config).append(": ");
    if (problems.size() == 1) {
      return sb.append(problems.get(0)).toString();
    }
    sb.append(problems.size()).append(" problems:");
    for (String problem : problems) {
      sb.append("\n  - ").append(problem);
    }
    return sb.toString();
  }

  public List<String> problems() {
    return problems;
  }
}
