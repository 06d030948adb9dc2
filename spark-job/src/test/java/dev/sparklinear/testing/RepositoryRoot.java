package dev.sparklinear.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root (where {@code conf/} and {@code data/} live), found from the test's working directory. */
public final class RepositoryRoot {
  private RepositoryRoot() {}

  public static Path find() {
    Path start = Path.of("").toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve("spark-job").resolve("pom.xml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("No repository root above " + start);
  }

  /** {@code relative} resolved against the repository root. */
  public static Path resolve(String relative) {
    return find().resolve(relative);
  }
}
