package dev.sparklinear.job;

import dev.sparklinear.core.nn.Linear;
import java.util.Map;

/**
 * The layer a job runs, with where its weights came from: what the run summary and the output files record so that
 * every output can be traced to the exact weights that made it.
 *
 * @param linear the layer, weights loaded
 * @param weightsSource how the weights were given: {@code inline}, {@code init-seed 7}, or the file path(s)
 * @param sha256 the SHA-256 of each weights file, by path (empty for inline or random weights)
 * @param fileMetadata the safetensors {@code __metadata__} (empty when there is none)
 */
public record LoadedModule(
    Linear linear, String weightsSource, Map<String, String> sha256, Map<String, String> fileMetadata) {
  public LoadedModule {
    sha256 = Map.copyOf(sha256);
    fileMetadata = Map.copyOf(fileMetadata);
  }
}
