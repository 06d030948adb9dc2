package dev.sparklinear.job;

import dev.sparklinear.core.nn.Module;
import java.util.Map;

/**
 * The module a job runs, with where its weights came from: what the run summary and the output files record so that
 * every output can be traced to the exact weights that made it.
 *
 * @param module the module, weights loaded: a {@code Linear}, or a {@code Sequential} of {@code module.layers}
 * @param inFeatures the width of the vectors the module takes
 * @param outFeatures the width of the vectors it gives
 * @param weightsSource how the weights were given: {@code inline}, {@code init-seed 7}, or the file path(s)
 * @param sha256 the SHA-256 of each weights file, by path (empty for inline or random weights)
 * @param fileMetadata the safetensors {@code __metadata__} (empty when there is none)
 */
public record LoadedModule(Module module, int inFeatures, int outFeatures, String weightsSource,
    Map<String, String> sha256, Map<String, String> fileMetadata) {
  public LoadedModule {
    sha256 = Map.copyOf(sha256);
    fileMetadata = Map.copyOf(fileMetadata);
  }
}
