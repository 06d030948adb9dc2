package dev.sparklinear.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Packs compiled classes of the test class path into a jar of their own, for a test that ships them to a cluster with
 * {@code --jars} instead of relying on the application jar (which does not hold test classes).
 *
 * <pre>{@code
 * Path hooks = ClassesJar.write(dir.resolve("hooks.jar"), MyHook.class);
 * }</pre>
 *
 * <p>Only the class files of the given top-level classes go in (not their nested classes); whatever they use must be
 * on the executors' class path already.
 */
public final class ClassesJar {
  private ClassesJar() {}

  /** Writes {@code jar} with the class files of {@code classes}, each under its package path. */
  public static Path write(Path jar, Class<?>... classes) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
      for (Class<?> type : classes) {
        if (type.getEnclosingClass() != null) {
          throw new IllegalArgumentException("Not a top-level class: " + type.getName());
        }
        String entry = type.getName().replace('.', '/') + ".class";
        try (InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
          if (in == null) {
            throw new IOException("No class file " + entry + " for " + type.getName() + " on the class path");
          }
          out.putNextEntry(new JarEntry(entry));
          in.transferTo(out);
          out.closeEntry();
        }
      }
    }
    return jar;
  }
}
