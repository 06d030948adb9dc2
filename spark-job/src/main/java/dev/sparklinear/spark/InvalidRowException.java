package dev.sparklinear.spark;

/**
 * A row whose features the module cannot take: a null vector, a null element, or the wrong width. The message names
 * the column, the row (its partition and index, the passed-through key values) and the input file when known.
 */
public final class InvalidRowException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  InvalidRowException(String message) {
    super(message);
  }
}
