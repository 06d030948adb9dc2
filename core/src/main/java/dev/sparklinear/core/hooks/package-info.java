/**
 * Ready-made hooks that work on whole blocks and can run before a module (on its inputs) or after it (on its
 * outputs): standardize, L2-normalize, clamp, ReLU, sigmoid, tanh, softmax and a guard against NaN and infinities.
 */
package dev.sparklinear.core.hooks;
