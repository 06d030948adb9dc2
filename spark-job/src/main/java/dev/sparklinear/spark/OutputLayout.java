package dev.sparklinear.spark;

import java.util.Locale;

/** How the module's output vector is laid out in the output rows. */
public enum OutputLayout {
  /** One {@code array<float>} column (the default). */
  ARRAY,
  /** One Spark ML vector column ({@code VectorUDT}, dense, values widened to double). */
  VECTOR,
  /** One float column per output dimension: {@code <column>_0 ... <column>_<out-1>}. */
  COLUMNS;

  /** The spelling used in config files and Spark ML params. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code array}, {@code vector} or {@code columns}, case-insensitively. */
  public static OutputLayout parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid output layout: '" + name + "' (expected array, vector or columns)");
    }
  }
}
