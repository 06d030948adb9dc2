/**
 * Float blocks: n rows by d float32 values, row-major, in Arrow memory. The type modules compute on, and the type the
 * Spark job hands in without copying.
 */
package dev.sparklinear.core.block;
