package dev.sparklinear.core.weights;

import java.util.Objects;

/**
 * Thrown when a weight file cannot be read: the one type every reader in this package throws for a file that is
 * malformed, truncated, too large or holds something the reader does not convert (an integer or object dtype).
 *
 * <p>The message says what was wrong, where (the source name the caller passed, the tensor name or byte offset) and
 * what to do, for example {@code Cannot read weights from conf/fc.safetensors: tensor 'weight' has data_offsets [0, 40],
 * 40 bytes, but shape [3, 4] of F32 needs 48 bytes. The file is damaged or was not written by a safetensors library;
 * save it again.}
 *
 * <p>It is unchecked because a bad file is a mistake in what the user pointed the program at, not a condition a caller
 * can recover from locally, and because it must pass through Spark lambdas unchanged. Failures of the underlying stream
 * are not this: they stay {@link java.io.IOException}s, so that a broken network read is not reported as a broken file.
 */
public class WeightFileException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;

  /** {@code problem} says what was wrong and what to do; the message prefixes it with the source. */
  public WeightFileException(String source, String problem) {
    super(message(source, problem));
    this.source = source;
  }

  public WeightFileException(String source, String problem, Throwable cause) {
    super(message(source, problem), cause);
    this.source = source;
  }

  private static String message(String source, String problem) {
    return "Cannot read weights from " + source + ": " + Objects.requireNonNull(problem, "problem");
  }

  /** The name of the file (or other source) that could not be read, as the caller gave it. */
  public String source() {
    return source;
  }
}
