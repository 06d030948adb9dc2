package dev.sparklinear.job.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Documents a config key where it is declared, on the record component that holds it: what it takes, its default and
 * whether it is required. {@link ConfigKey} reads these to check values, fill defaults and write
 * {@code docs/config.md}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Key {
  /** What the key means, one or more sentences. */
  String doc();

  /** What a valid value is, worded for "must be ...": {@code a positive integer}. Enums list their spellings. */
  String expect() default "";

  /** The default as YAML text ({@code 4096}, {@code "''"}, {@code []}); empty when the key has no default. */
  String defaultYaml() default "";

  /** The docs' words for a key without a default. */
  String defaultText() default "none";

  /** {@code yes}, {@code no}, or when the key is required. */
  String required() default "no";
}
