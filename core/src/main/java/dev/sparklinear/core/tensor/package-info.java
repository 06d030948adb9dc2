/**
 * Small immutable float32 tensors held on the heap: module parameters, state dicts and the contents of weight files.
 * Blocks of rows that modules compute on live in {@code dev.sparklinear.core.block} instead.
 */
package dev.sparklinear.core.tensor;
