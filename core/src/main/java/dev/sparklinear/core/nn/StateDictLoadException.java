package dev.sparklinear.core.nn;

import java.util.List;

/**
 * Thrown by {@link Module#loadStateDict} with every problem found at once, worded as PyTorch's
 * {@code load_state_dict} words them, so the message can be matched against a PyTorch run.
 */
public final class StateDictLoadException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final List<String> missingKeys;
  private final List<String> unexpectedKeys;
  private final List<String> sizeMismatches;

  StateDictLoadException(
      String message, List<String> missingKeys, List<String> unexpectedKeys, List<String> sizeMismatches) {
    super(message);
    this.missingKeys = List.copyOf(missingKeys);
    this.unexpectedKeys = List.copyOf(unexpectedKeys);
    this.sizeMismatches = List.copyOf(sizeMismatches);
  }

  public List<String> missingKeys() {
    return missingKeys;
  }

  public List<String> unexpectedKeys() {
    return unexpectedKeys;
  }

  /** The keys whose shapes differ between the checkpoint and the module. */
  public List<String> sizeMismatches() {
    return sizeMismatches;
  }
}
