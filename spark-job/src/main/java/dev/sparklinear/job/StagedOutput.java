package dev.sparklinear.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes a job's output beside its final place and moves it there only when it is complete, so that a failed run
 * never leaves a half-written output where a complete one is expected, and an {@code overwrite} run that fails keeps
 * the previous output intact.
 *
 * <p>The staging folder is a hidden sibling of the output ({@code .NAME.spark-linear-<id>}), on the same file system,
 * where a rename is atomic (local disks, HDFS); on object stores a rename is a copy, still done only after success.
 */
final class StagedOutput {
  private final FileSystem fs;
  private final Path target;
  private final Path staging;

  private StagedOutput(FileSystem fs, Path target, Path staging) {
    this.fs = fs;
    this.target = target;
    this.staging = staging;
  }

  static StagedOutput begin(String output, Configuration hadoop) {
    Path target = new Path(output);
    try {
      FileSystem fs = target.getFileSystem(hadoop);
      Path qualified = fs.makeQualified(target);
      Path staging = new Path(qualified.getParent(),
          "." + qualified.getName() + ".spark-linear-" + UUID.randomUUID().toString().substring(0, 8));
      return new StagedOutput(fs, qualified, staging);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare output path " + output + ": " + e.getMessage(), e);
    }
  }

  /** Where the job writes. */
  String stagingPath() {
    return staging.toString();
  }

  /**
   * Moves the complete output into place. With {@code replace}, an existing output is swapped out and deleted only
   * after the new one is in place; without it, an output that appeared meanwhile is an error.
   */
  void commit(boolean replace) {
    try {
      Path previous = null;
      if (fs.exists(target)) {
        if (!replace) {
          throw new IllegalStateException("Output path " + target + " appeared while the job ran and output.mode is"
              + " errorifexists; the new output is left in " + staging);
        }
        previous = new Path(staging.getParent(), staging.getName() + "-previous");
        rename(target, previous);
      }
      rename(staging, target);
      if (previous != null) {
        fs.delete(previous, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot move the output from " + staging + " to " + target, e);
    }
  }

  /** Deletes whatever the failed run wrote. Never throws: it runs while another failure is being reported. */
  void abort() {
    try {
      fs.delete(staging, true);
    } catch (IOException | RuntimeException ignored) {
      // The original failure matters more; a leftover hidden folder is harmless and named after the output.
    }
  }

  private void rename(Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("rename of " + from + " to " + to + " failed");
    }
  }
}
