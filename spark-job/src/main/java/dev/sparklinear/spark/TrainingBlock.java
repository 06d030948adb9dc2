package dev.sparklinear.spark;

import java.io.Serializable;

/**
 * A block of a fit's training rows, as a task keeps it in executor memory between epochs: the valid rows' features
 * ({@code rows x inFeatures} float32, row-major) and their labels (float targets, {@code rows x labelWidth}, or class
 * indices), plus how many input rows it took and why those left out were invalid. Plain heap arrays, so that Spark's
 * cache holds it without copies; each epoch wraps it in Arrow blocks for the module.
 *
 * @param rows the valid rows held
 * @param features their features
 * @param targets their float targets, or null for class indices
 * @param classes their class indices, or null for float targets
 * @param rowsRead the input rows this block took, valid or not
 * @param invalid the invalid rows among them, by reason, in the order of {@link TrainingSet#INVALID_REASONS}
 */
record TrainingBlock(int rows, float[] features, float[] targets, long[] classes, long rowsRead, long[] invalid)
    implements Serializable {
}
