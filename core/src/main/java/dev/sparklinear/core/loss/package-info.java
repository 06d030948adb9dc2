/**
 * Loss functions after PyTorch's ({@code MSELoss}, {@code BCEWithLogitsLoss}, {@code CrossEntropyLoss}): a loss
 * value of a block of outputs against targets, its gradient with respect to the outputs, and the sum form
 * ({@link dev.sparklinear.core.loss.LossSum}) that lets partitions be added up before the mean is taken.
 */
package dev.sparklinear.core.loss;
