/**
 * What the core tests share: an allocator that fails the test on a leak, a double-precision reference for
 * {@code y = x W^T + b} with the float32 error bound results are checked against, and the reader of torch's fixtures.
 */
package dev.sparklinear.core.testing;
