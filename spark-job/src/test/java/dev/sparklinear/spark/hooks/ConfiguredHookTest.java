package dev.sparklinear.spark.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.spark.hooks.ConfiguredHook.Kind;
import dev.sparklinear.testing.NotAHook;
import dev.sparklinear.testing.ScaleHook;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfiguredHookTest {
  private static final ClassLoader APP = ConfiguredHookTest.class.getClassLoader();

  @Test
  void refusesAClassThatIsNotAHookWithoutMakingOne() {
    int before = NotAHook.INSTANCES.get();
    ConfiguredHook hook = new ConfiguredHook(NotAHook.class.getName(), Kind.FORWARD, Map.of(), "hooks.forward[0]");
    assertThat(hook.check(APP)).hasValue("Hook class dev.sparklinear.testing.NotAHook (hooks.forward[0]) does not"
        + " implement dev.sparklinear.core.nn.ForwardHook");
    // On an executor, where the driver could not check, the class is refused before it is instantiated.
    try (BufferAllocator allocator = new RootAllocator(); FloatBlock x = FloatBlock.ofRow(allocator, 1f)) {
      assertThatThrownBy(() -> hook.apply(new Linear(1, 1), x, x, CallContext.of(x)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Hook class dev.sparklinear.testing.NotAHook (hooks.forward[0]) does not implement"
              + " dev.sparklinear.core.nn.ForwardHook");
    }
    assertThat(NotAHook.INSTANCES.get()).isEqualTo(before);
  }

  @Test
  void namesTheOtherListWhenAHookIsOfTheOtherKind() {
    ConfiguredHook hook = new ConfiguredHook(ScaleHook.class.getName(), Kind.PRE, Map.of("factor", "2"), "hooks.pre[1]");
    assertThat(hook.check(APP)).hasValue("Hook class dev.sparklinear.testing.ScaleHook (hooks.pre[1]) does not"
        + " implement dev.sparklinear.core.nn.ForwardPreHook; it is a forward hook: list it under hooks.forward");
  }

  @Test
  void checkingMakesNoInstanceAndAcceptsUnknownClasses() {
    int before = ScaleHook.INSTANCES.get();
    assertThat(new ConfiguredHook(ScaleHook.class.getName(), Kind.FORWARD, Map.of("factor", "2"), "w").check(APP))
        .isEmpty();
    assertThat(ScaleHook.INSTANCES.get()).isEqualTo(before);
    // Not on the driver's class path: maybe on the executors' (--jars); they will say if it is not.
    assertThat(new ConfiguredHook("com.example.Missing", Kind.FORWARD, Map.of(), "w").check(APP)).isEmpty();
  }

  @Test
  void refusesParametersForAClassWithoutAMapConstructor() {
    ConfiguredHook hook = new ConfiguredHook(Rounding.class.getName(), Kind.FORWARD, Map.of("digits", "2"), "f[0]");
    assertThat(hook.check(APP)).hasValue("Hook class " + Rounding.class.getName() + " (f[0]) is given parameters"
        + " [digits] but has no public constructor taking Map<String, String>");
  }

  /** A hook with only a no-argument constructor. */
  public static final class Rounding implements dev.sparklinear.core.nn.ForwardHook {
    @Override
    public FloatBlock apply(dev.sparklinear.core.nn.Module m, FloatBlock in, FloatBlock out, CallContext c) {
      return null;
    }
  }

  @Test
  void missingClassOnTheExecutorSaysWhereToPutIt() {
    ConfiguredHook hook = new ConfiguredHook("com.example.Missing", Kind.PRE, Map.of(), "hooks.pre[0]");
    try (BufferAllocator allocator = new RootAllocator(); FloatBlock x = FloatBlock.ofRow(allocator, 1f)) {
      assertThatThrownBy(() -> hook.apply(new Linear(1, 1), x, CallContext.of(x)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Hook class com.example.Missing (hooks.pre[0]) was not found on the executor; put it in the"
              + " application jar or add its jar with --jars");
    }
  }

  /**
   * A class that only the thread's context class loader can see (as a jar added with --jars is seen on an executor)
   * is loaded from there on first use, after the wrapper went through serialization as the broadcast module does.
   */
  @Test
  void loadsTheClassWithTheContextClassLoaderOnFirstUse(@TempDir Path dir) throws Exception {
    String source = """
        package com.example.hooks;
        public class AddOne implements dev.sparklinear.core.nn.ForwardPreHook {
          public static int instances;
          public AddOne() { instances++; }
          public dev.sparklinear.core.block.FloatBlock apply(dev.sparklinear.core.nn.Module m,
              dev.sparklinear.core.block.FloatBlock x, dev.sparklinear.core.nn.CallContext c) {
            for (int r = 0; r < x.rows(); r++) {
              for (int k = 0; k < x.cols(); k++) {
                x.set(r, k, x.get(r, k) + 1);
              }
            }
            return x;
          }
        }
        """;
    Path file = dir.resolve("src/com/example/hooks/AddOne.java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, source, StandardCharsets.UTF_8);
    Path classes = Files.createDirectories(dir.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
        file.toString());
    assertThat(rc).as("javac exit code").isZero();

    ConfiguredHook hook = new ConfiguredHook("com.example.hooks.AddOne", Kind.PRE, Map.of(), "hooks.pre[0]");
    assertThat(hook.check(APP)).as("not on the driver's class path").isEmpty();
    ConfiguredHook shipped = roundTrip(hook);

    Thread thread = Thread.currentThread();
    ClassLoader saved = thread.getContextClassLoader();
    try (URLClassLoader jars = new URLClassLoader(new URL[] {classes.toUri().toURL()}, APP);
        BufferAllocator allocator = new RootAllocator()) {
      thread.setContextClassLoader(jars);
      Class<?> loaded = jars.loadClass("com.example.hooks.AddOne");
      assertThat(loaded.getField("instances").getInt(null)).as("made before first use").isZero();
      Linear fc = new Linear(2, 1, false);
      fc.setWeight(new dev.sparklinear.core.nn.Parameter(dev.sparklinear.core.tensor.Tensor.of(
          new float[][] {{1f, 10f}})));
      fc.registerForwardPreHook(shipped);
      for (int i = 0; i < 3; i++) {
        try (FloatBlock x = FloatBlock.copyOf(allocator, new float[][] {{1f, 2f}}); FloatBlock y = fc.call(x)) {
          assertThat(y.row(0)).containsExactly(2f + 30f);
        }
      }
      assertThat(loaded.getField("instances").getInt(null)).as("one instance per JVM").isEqualTo(1);
    } finally {
      thread.setContextClassLoader(saved);
    }
  }

  private static ConfiguredHook roundTrip(ConfiguredHook hook) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(hook);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (ConfiguredHook) in.readObject();
    }
  }

  @Test
  void showsClassAndParameters() {
    assertThat(new ConfiguredHook("a.B", Kind.FORWARD, Map.of("k", "v"), "w")).hasToString("ConfiguredHook(a.B, {k=v})");
    assertThat(List.of(Kind.values())).extracting(Kind::configKey).containsExactly("hooks.pre", "hooks.forward");
  }
}
