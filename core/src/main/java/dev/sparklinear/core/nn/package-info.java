/**
 * The module library, after PyTorch's {@code torch.nn}: {@link dev.sparklinear.core.nn.Module} with its final
 * {@code call()} hook pipeline, parameters, hooks with removable handles, state dicts, and {@link
 * dev.sparklinear.core.nn.Linear}.
 */
package dev.sparklinear.core.nn;
