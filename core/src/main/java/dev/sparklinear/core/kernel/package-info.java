/**
 * Float32 kernels for {@code y = x W^T + b} on {@link dev.sparklinear.core.block.FloatBlock}s, behind one small
 * interface so that faster kernels can replace the portable one without touching the modules; and the products of
 * a gradient tape's float64 pass, forward and backward ({@link dev.sparklinear.core.kernel.Float64Linear}).
 */
package dev.sparklinear.core.kernel;
