package dev.sparklinear.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Where a run writes its output, so that a failed run never leaves a half-written output where a complete one is
 * expected, and a failed run that replaces an output keeps the previous one intact.
 *
 * <p>A new output is written in place: the writers' commit protocol publishes it at job commit, and a failed run
 * removes the folder it made. An output that replaces an existing one is written beside it, in a hidden sibling
 * ({@code .NAME.spark-linear-<id>}) on the same file system, and renamed into place once complete: atomic on local
 * disks and HDFS, a copy of every file on object stores.
 *
 * <p>An output written outside Spark's commit protocol (the files of {@code fit}) is always {@link #staged}: written
 * in the hidden sibling and renamed into place once complete, so that no reader ever sees part of it.
 *
 * @param written where the run writes: the target, or its staging sibling
 * @param targetExisted whether the target was there when the run began
 * @param replace whether the run may replace an existing target
 */
record OutputPlacement(FileSystem fs, Path target, Path written, boolean targetExisted, boolean replace) {

  /** The placement of {@code output}: staged beside it when the run may {@code replace} it and it exists. */
  static OutputPlacement begin(String output, boolean replace, Configuration hadoop) {
    return begin(output, replace, false, hadoop);
  }

  /** The placement of {@code output}, always written in a staging sibling and renamed into place at commit. */
  static OutputPlacement staged(String output, boolean replace, Configuration hadoop) {
    return begin(output, replace, true, hadoop);
  }

  private static OutputPlacement begin(String output, boolean replace, boolean stage, Configuration hadoop) {
    Path path = new Path(output);
    try {
      FileSystem fs = path.getFileSystem(hadoop);
      Path target = fs.makeQualified(path);
      boolean exists = fs.exists(target);
      Path written = !(stage || replace && exists) ? target : new Path(target.getParent(),
          "." + target.getName() + ".spark-linear-" + UUID.randomUUID().toString().substring(0, 8));
      return new OutputPlacement(fs, target, written, exists, replace);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare output path " + output + ": " + e.getMessage(), e);
    }
  }

  /** Where the job writes. */
  String path() {
    return written.toString();
  }

  /**
   * Puts the complete output in place: a staged one replaces the previous output, which is deleted first (setting it
   * aside would be one more rename, and a copy on object stores). Not followed by {@link #abort} when it fails: the
   * message says where the complete output is.
   */
  void commit() {
    if (written.equals(target)) {
      return;
    }
    try {
      if (!replace && fs.exists(target)) {
        throw new IOException(target + " appeared while the run was writing, and output.mode is errorifexists");
      }
      fs.delete(target, true); // false when there was none
      if (!fs.rename(written, target)) {
        throw new IOException("rename failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot move the output from " + written + " to " + target + ": "
          + e.getMessage() + ". The complete output is left in " + written + "; move it there by hand.", e);
    }
  }

  /**
   * Deletes what the failed run wrote: the staging folder, or the output folder it made (never one that was there
   * before). Never throws: it runs while another failure is being reported.
   */
  void abort() {
    if (written.equals(target) && targetExisted) {
      return;
    }
    try {
      fs.delete(written, true);
    } catch (IOException | RuntimeException ignored) {
      // The original failure matters more; a leftover folder is named after the output.
    }
  }
}
