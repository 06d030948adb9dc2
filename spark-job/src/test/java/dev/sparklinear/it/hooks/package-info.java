/**
 * Hook classes that inject faults into a job on a cluster: a failure on a task's first attempt, a delay per block.
 * The integration tests ship them to the executors in a jar of their own, given with {@code --jars}.
 */
package dev.sparklinear.it.hooks;
