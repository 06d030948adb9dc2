/**
 * Float32 kernels for {@code y = x W^T + b} on {@link dev.sparklinear.core.block.FloatBlock}s, behind one small
 * interface so that faster kernels can replace the portable one without touching the modules; and the products of
 * its backward pass ({@link dev.sparklinear.core.kernel.LinearGradients}), accumulated in float64.
 */
package dev.sparklinear.core.kernel;
