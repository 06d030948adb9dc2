/**
 * The run report for people: one self-contained HTML page with the run summary and a histogram of each output
 * dimension, so a user can see at a glance whether the outputs look right.
 */
package dev.sparklinear.job.report;
