package dev.sparklinear.core.nn;

import java.util.List;

/**
 * What a non-strict {@link Module#loadStateDict} left out, as PyTorch's {@code _IncompatibleKeys}.
 *
 * @param missingKeys parameters of the module that the state dict did not have (left as they were)
 * @param unexpectedKeys keys of the state dict that name no parameter of the module (ignored)
 */
public record IncompatibleKeys(List<String> missingKeys, List<String> unexpectedKeys) {
  public IncompatibleKeys {
    missingKeys = List.copyOf(missingKeys);
    unexpectedKeys = List.copyOf(unexpectedKeys);
  }

  public boolean isEmpty() {
    return missingKeys.isEmpty() && unexpectedKeys.isEmpty();
  }
}
