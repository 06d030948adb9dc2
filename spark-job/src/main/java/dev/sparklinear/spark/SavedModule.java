package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.ModuleArchitecture;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.SafetensorsReader;
import dev.sparklinear.core.weights.SafetensorsWriter;
import dev.sparklinear.core.weights.WeightFileException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A module saved in a directory of any Hadoop file system as two files that PyTorch can read:
 *
 * <ul>
 *   <li>{@value #ARCHITECTURE}: the tree as PyTorch class names and constructor arguments
 *       ({@link ModuleArchitecture});
 *   <li>{@value #WEIGHTS}: the state dict under PyTorch's keys ({@code 0.weight}, {@code 1.running_mean}), float
 *       tensors as F32 and integer buffers as I64, written as the safetensors library writes it
 *       ({@link SafetensorsWriter}), with {@code {"format": "pt"}} as metadata.
 * </ul>
 *
 * <p>In PyTorch, build the same {@code nn.Sequential} from the architecture and call
 * {@code model.load_state_dict(load_file("module.safetensors"))}, with
 * {@code load_file} from {@code safetensors.torch}. Hooks are not saved.
 */
final class SavedModule {
  static final String ARCHITECTURE = "architecture.json";
  static final String WEIGHTS = "module.safetensors";

  private SavedModule() {}

  /**
   * The architecture of {@code module}, checked before anything is written: a module that cannot be described is
   * refused here, naming it, so that a failed save leaves no half-written directory behind.
   */
  static String architectureOf(Module module) {
    return ModuleArchitecture.toJson(module);
  }

  /** Writes the two files into {@code dir}, which the caller has made sure holds neither. */
  static void save(Module module, FileSystem fs, Path dir) throws IOException {
    String architecture = architectureOf(module);
    try (OutputStream out = fs.create(new Path(dir, ARCHITECTURE), false)) {
      out.write(architecture.getBytes(StandardCharsets.UTF_8));
    }
    try (OutputStream out = fs.create(new Path(dir, WEIGHTS), false)) {
      SafetensorsWriter.write(module.stateDict(), Map.of("format", "pt"), out);
    }
  }

  /**
   * Rebuilds the module saved in {@code dir} and loads its state dict strictly, as {@code load_state_dict} does.
   *
   * @throws SavedModuleException naming the file, when a file is missing, unreadable or damaged, or when the weights
   *     do not fit the architecture
   */
  static Module load(FileSystem fs, Path dir) {
    Path architectureFile = new Path(dir, ARCHITECTURE);
    Path weightsFile = new Path(dir, WEIGHTS);
    Module module;
    try (InputStream in = open(fs, architectureFile)) {
      module = ModuleArchitecture.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new SavedModuleException(dir, architectureFile + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new SavedModuleException(dir, "cannot read " + architectureFile + ": " + e.getMessage(), e);
    }
    Map<String, Tensor> state;
    try (InputStream in = open(fs, weightsFile)) {
      state = SafetensorsReader.read(in, weightsFile.toString()).tensors();
    } catch (WeightFileException e) {
      throw new SavedModuleException(dir, e.getMessage(), e);
    } catch (IOException e) {
      throw new SavedModuleException(dir, "cannot read " + weightsFile + ": " + e.getMessage(), e);
    }
    try {
      module.loadStateDict(state, true);
    } catch (RuntimeException e) {
      throw new SavedModuleException(dir, "the weights in " + weightsFile + " do not fit the architecture in "
          + ARCHITECTURE + ": " + e.getMessage(), e);
    }
    return module;
  }

  private static InputStream open(FileSystem fs, Path file) throws IOException {
    if (!fs.exists(file)) {
      throw new FileNotFoundException(file + " does not exist; a saved module has both " + ARCHITECTURE + " and "
          + WEIGHTS + ". Save the transformer again");
    }
    return fs.open(file);
  }
}
