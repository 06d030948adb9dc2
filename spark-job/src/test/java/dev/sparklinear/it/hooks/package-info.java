/**
 * Hook classes that inject faults into a job on a cluster: a failure on a task's first attempt, a delay per block,
 * and a driver listener that kills one task attempt of a fit. The integration tests ship them in a jar of their own,
 * given with {@code --jars}.
 */
package dev.sparklinear.it.hooks;
