package dev.sparklinear.spark;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Linear;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A layer that reports, from whatever JVM runs it, how often that JVM deserialized such a layer and which instance
 * ran each block: each call of {@code forward} leaves an empty file named {@code <pid>-<instance>-<deserializations>}
 * in a folder every JVM of the machine can reach. A top-level class, so that it can be shipped to a cluster in a jar.
 */
public class BroadcastProbe extends Linear {
  private static final long serialVersionUID = 1L;
  private static final AtomicInteger DESERIALIZED = new AtomicInteger();

  private final String reportDir;

  public BroadcastProbe(Path reportDir) {
    super(2, 1, false, 1);
    this.reportDir = reportDir.toString();
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    DESERIALIZED.incrementAndGet();
  }

  @Override
  protected FloatBlock forward(FloatBlock input, CallContext context) {
    String name = ProcessHandle.current().pid() + "-" + System.identityHashCode(this) + "-" + DESERIALIZED.get();
    try {
      Files.createFile(Path.of(reportDir, name));
    } catch (FileAlreadyExistsException e) {
      // Another block of the same instance said it already.
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return super.forward(input, context);
  }

  /** One report: the JVM, the instance that ran a block, and the deserializations that JVM had made by then. */
  public record Report(long pid, int instance, int deserializations) {
    /** Every report left in {@code dir}. */
    public static List<Report> readAll(Path dir) throws IOException {
      try (Stream<Path> files = Files.list(dir)) {
        return files.map(p -> p.getFileName().toString().split("-"))
            .map(f -> new Report(Long.parseLong(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2])))
            .toList();
      }
    }
  }
}
