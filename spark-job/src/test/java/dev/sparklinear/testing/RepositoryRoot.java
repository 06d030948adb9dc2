package dev.sparklinear.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root, found from a test's working directory, for tests that read committed files. */
public final class RepositoryRoot {
  private RepositoryRoot() {}

  /** {@code relative} resolved against the repository root. */
  public static Path resolve(String relative) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("spark-job").resolve("pom.xml"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("No repository root above " + Path.of("").toAbsolutePath());
    }
    return dir.resolve(relative);
  }
}
