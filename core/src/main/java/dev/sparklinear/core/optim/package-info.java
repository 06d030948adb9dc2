/**
 * Optimizers after PyTorch's {@code torch.optim} ({@code SGD}, {@code Adam}, {@code AdamW}): a step over a module's
 * parameters with torch's update formulas in float32, and state dicts in torch's structure so training can resume.
 */
package dev.sparklinear.core.optim;
