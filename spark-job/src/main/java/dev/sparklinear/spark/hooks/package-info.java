/**
 * Hooks that need Spark: {@link dev.sparklinear.spark.hooks.StatsHook}, which gathers per-output statistics over a
 * whole job with an accumulator, and {@link dev.sparklinear.spark.hooks.ConfiguredHook}, which loads a user's hook
 * class on the executors.
 */
package dev.sparklinear.spark.hooks;
