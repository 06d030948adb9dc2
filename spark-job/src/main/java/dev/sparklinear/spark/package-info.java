/**
 * The Spark side: {@link dev.sparklinear.spark.ModuleTransformer} and the Arrow bridge that turns row blocks into
 * float blocks, runs the broadcast module's {@code call()} on each, and turns the outputs back into rows; and a fit's
 * {@link dev.sparklinear.spark.TrainingSet}: training rows cached as float blocks, and each epoch's gradient sums.
 */
package dev.sparklinear.spark;
