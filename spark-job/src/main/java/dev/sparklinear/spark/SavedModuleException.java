package dev.sparklinear.spark;

import org.apache.hadoop.fs.Path;

/**
 * Thrown when a saved transformer's module cannot be loaded: a file is missing, unreadable or damaged, or the weights
 * do not fit the architecture. The message names the saved directory and the file. Unchecked, as Spark's
 * {@code MLReader.load} declares no exception.
 */
public class SavedModuleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SavedModuleException(Path dir, String problem, Throwable cause) {
    super("Cannot load the module saved in " + dir + ": " + problem, cause);
  }
}
