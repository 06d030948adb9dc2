package dev.sparklinear.job.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds files committed at the repository root (docs, example configs) from a test's working directory. */
final class RepositoryFiles {
  private RepositoryFiles() {}

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("spark-job").resolve("pom.xml"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("No repository root above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
