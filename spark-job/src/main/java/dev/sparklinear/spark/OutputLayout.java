package dev.sparklinear.spark;

/** How the module's output vector is laid out in the output rows. */
public enum OutputLayout implements ConfigEnum {
  /** One {@code array<float>} column (the default). */
  ARRAY,
  /** One Spark ML vector column ({@code VectorUDT}, dense, values widened to double). */
  VECTOR,
  /** One float column per output dimension: {@code <column>_0 ... <column>_<out-1>}. */
  COLUMNS;
}
