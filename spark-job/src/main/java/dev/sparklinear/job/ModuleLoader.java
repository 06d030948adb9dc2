package dev.sparklinear.job;

import dev.sparklinear.core.kernel.LinearKernels;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Parameter;
import dev.sparklinear.core.nn.StateDictLoadException;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.NpyReader;
import dev.sparklinear.core.weights.SafetensorsFile;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.WeightFileException;
import dev.sparklinear.job.config.InlineTensor;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.JobConfig.ModuleConfig;
import dev.sparklinear.job.config.JobConfig.WeightsConfig;
import dev.sparklinear.job.config.Layer;
import dev.sparklinear.job.config.ModulePrecision;
import dev.sparklinear.job.config.Values;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Builds the job's module from its config, a {@link Linear} or the {@code nn.Sequential} of {@code module.layers}, with
 * inline weights, a safetensors (or, for a Linear, npy) file, or PyTorch-style random initialisation from
 * {@code module.init-seed}. Files are read once, on the driver, through Hadoop's FileSystem (so
 * {@code file:}, {@code hdfs:}, {@code s3a:} and the rest work), and go through the layer's strict state-dict load.
 */
public final class ModuleLoader {
  /** Weight files larger than this are refused before reading (the readers' own limit is just under 2 GiB). */
  private static final long MAX_WEIGHTS_BYTES = Integer.MAX_VALUE - 8;

  private ModuleLoader() {}

  /**
   * The module, or null with the reason added to {@code problems}: a preflight reports a module that cannot be built
   * together with every other problem it finds.
   */
  static LoadedModule load(JobConfig config, Configuration hadoop, List<String> problems) {
    try {
      return load(config, hadoop);
    } catch (RuntimeException e) {
      problems.add(e.getMessage());
      return null;
    }
  }

  public static LoadedModule load(JobConfig config, Configuration hadoop) {
    ModuleConfig module = config.module();
    WeightsConfig weights = module.weights();
    boolean tree = module.layers() != null;
    Module built = withPrecision(tree ? Layer.sequential(module.layers(), module.initSeed())
        : module.initSeed() != null
            ? new Linear(module.inFeatures(), module.outFeatures(), module.bias(), module.initSeed())
            : new Linear(module.inFeatures(), module.outFeatures(), module.bias()), module.precision());
    String fix = tree ? "Make module.layers match the file: the same layers in the same order, of the same widths"
        + " (child i's tensors are i.weight, i.bias, ...)"
        : "Set module.in-features, module.out-features and module.bias to match the file";
    Map<String, String> sha256 = new LinkedHashMap<>();
    int in = module.inputWidth();
    int out = module.outputWidth();
    switch (weights.format()) {
      case INLINE -> {
        if (tree ? weights.tensors() == null : weights.weight() == null) {
          String source = module.initSeed() != null
              ? "random (init-seed " + module.initSeed() + ")" : "random (default seed sequence)";
          return new LoadedModule(built, in, out, source, sha256, Map.of());
        }
        if (tree) {
          loadStateDict(built, InlineTensor.stateDict(weights.tensors()), "module.weights.tensors", fix);
          return new LoadedModule(built, in, out, "inline", sha256, Map.of());
        }
        Linear linear = (Linear) built;
        linear.setWeight(new Parameter(Tensor.of(weights.weight().stream().map(Values::floats)
            .toArray(float[][]::new))));
        if (weights.bias() != null) {
          linear.setBias(new Parameter(Tensor.of(Values.floats(weights.bias()))));
        }
        return new LoadedModule(built, in, out, "inline", sha256, Map.of());
      }
      case SAFETENSORS -> {
        String path = weights.path();
        byte[] bytes = readFile(path, hadoop);
        sha256.put(path, sha256(bytes));
        SafetensorsFile file = SafetensorsReader.read(bytes, path);
        SafetensorsFile selected = weights.prefix().isEmpty() ? file : file.withPrefix(weights.prefix());
        loadStateDict(built, selected.tensors(), path, fix + ", or check module.weights.prefix");
        return new LoadedModule(built, in, out, path, sha256, file.metadata());
      }
      case NPY -> {
        Map<String, Tensor> state = new LinkedHashMap<>();
        String weightPath = weights.path();
        byte[] weightBytes = readFile(weightPath, hadoop);
        sha256.put(weightPath, sha256(weightBytes));
        state.put("weight", NpyReader.read(weightBytes, weightPath));
        String source = weightPath;
        if (weights.biasPath() != null) {
          String biasPath = weights.biasPath();
          byte[] biasBytes = readFile(biasPath, hadoop);
          sha256.put(biasPath, sha256(biasBytes));
          state.put("bias", NpyReader.read(biasBytes, biasPath));
          source += ", " + biasPath;
        }
        loadStateDict(built, state, source, fix);
        return new LoadedModule(built, in, out, source, sha256, Map.of());
      }
      default -> throw new IllegalStateException("Unhandled weights format " + weights.format());
    }
  }

  /**
   * Sets {@code module.precision} on every Linear layer of {@code module} (the single Linear, or each of a tree): the
   * layers carry it to the executors when the module is broadcast. Null is the default, {@code float32}.
   *
   * @return {@code module}
   */
  static Module withPrecision(Module module, ModulePrecision precision) {
    LinearKernels.Precision kernelPrecision =
        (precision == null ? ModulePrecision.FLOAT32 : precision).kernelPrecision();
    return module.apply(child -> {
      if (child instanceof Linear linear) {
        linear.setPrecision(kernelPrecision);
      }
    });
  }

  /**
   * Loads {@code state} strictly; when it does not fit, the error keeps PyTorch's words and adds the file and what to
   * change.
   */
  private static void loadStateDict(Module module, Map<String, Tensor> state, String source, String fix) {
    try {
      module.loadStateDict(state, true);
    } catch (StateDictLoadException e) {
      throw new WeightFileException(source, "the tensors do not fit " + module + ". " + e.getMessage() + "\n" + fix
          + ".", e);
    }
  }

  /** Reads a whole (small) file through Hadoop's FileSystem, with errors that name the file. */
  static byte[] readFile(String location, Configuration hadoop) {
    Path path = new Path(location);
    try {
      FileSystem fs = path.getFileSystem(hadoop);
      long length = fs.getFileStatus(path).getLen();
      if (length > MAX_WEIGHTS_BYTES) {
        throw new WeightFileException(location, "the file has " + length + " bytes, more than the " + MAX_WEIGHTS_BYTES
            + " a weights file may have. Export only the layer's tensors");
      }
      try (InputStream in = fs.open(path)) {
        return in.readAllBytes();
      }
    } catch (FileNotFoundException e) {
      throw new WeightFileException(location, "the file does not exist. Check module.weights.path and"
          + " module.weights.bias-path (relative paths are resolved against the working directory)");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read weights from " + location + ": " + e.getMessage(), e);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
