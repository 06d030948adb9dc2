/**
 * The module library, after PyTorch's {@code torch.nn}: {@link dev.sparklinear.core.nn.Module} with its final
 * {@code call()} hook pipeline, parameters, buffers, hooks with removable handles, state dicts, and the modules trees
 * are made of ({@link dev.sparklinear.core.nn.Sequential}, {@link dev.sparklinear.core.nn.Linear}, activations, norms).
 */
package dev.sparklinear.core.nn;
