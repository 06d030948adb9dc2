/**
 * The batch job: the command line, the Spark session, loading the layer from its config and weights, the preflight
 * checks, the run itself, and its summary; and the fit ({@code spark-linear fit}), its checkpoint and its summary.
 */
package dev.sparklinear.job;
