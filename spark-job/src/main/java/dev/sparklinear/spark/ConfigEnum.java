package dev.sparklinear.spark;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * An enum whose constants are spelled in config files and Spark ML params as their names in lower kebab case
 * ({@code THREE_LEVEL} is {@code three-level}). Implementing it is all an enum needs: the spelling and its parsing
 * live here once.
 */
public interface ConfigEnum {
  /** The enum constant's name; every enum has it. */
  String name();

  /** The spelling used in config files and Spark ML params. */
  default String configValue() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Every spelling of {@code type}, in declaration order: {@code error, skip, null}. */
  static <E extends Enum<E> & ConfigEnum> String spellings(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(ConfigEnum::configValue).collect(Collectors.joining(", "));
  }

  /**
   * The constant of {@code type} spelled {@code text}, case-insensitively.
   *
   * @param what what the value is, for the error ({@code "output layout"})
   * @throws IllegalArgumentException naming the value and every spelling, when none matches
   */
  static <E extends Enum<E> & ConfigEnum> E parse(Class<E> type, String text, String what) {
    for (E constant : type.getEnumConstants()) {
      if (constant.configValue().equalsIgnoreCase(text)) {
        return constant;
      }
    }
    throw new IllegalArgumentException("Invalid " + what + ": '" + text + "' (expected one of "
        + spellings(type) + ")");
  }
}
