package dev.sparklinear.job.config;

import java.util.Locale;

/** How the layer's output vector is written ({@code output.layout}). */
public enum OutputLayout {
  /** One column of type {@code array<float>}. */
  ARRAY,
  /** One column of Spark ML's {@code VectorUDT} (dense vectors of doubles). */
  VECTOR,
  /** One float column per output feature, named {@code <output.column>_0}, {@code <output.column>_1}, ... */
  COLUMNS;

  /** The spelling used in config files. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
