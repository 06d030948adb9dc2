package dev.sparklinear.spark;

import java.util.List;
import java.util.Optional;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Finds, in a query's physical plan, a columnar source (Spark's vectorized Parquet or ORC scan) whose batches can be
 * read directly instead of the rows Spark would make of them.
 *
 * <p>Only the plain shape is taken: a scan turned into rows, possibly under a projection that only picks and reorders
 * columns. Anything else (filters, computed columns, non-columnar sources) keeps the row path, which gives the same
 * output.
 */
final class ColumnarInput {
  private final SparkPlan columnar;
  private final int[] ordinals;

  private ColumnarInput(SparkPlan columnar, int[] ordinals) {
    this.columnar = columnar;
    this.ordinals = ordinals;
  }

  /** The columnar source of {@code dataset}, or empty when its plan is not the plain shape. */
  static Optional<ColumnarInput> of(Dataset<Row> dataset) {
    SparkPlan plan = dataset.queryExecution().executedPlan();
    List<Attribute> wanted = CollectionConverters.asJava(plan.output());
    if (plan instanceof WholeStageCodegenExec codegen) {
      plan = codegen.child();
    }
    if (plan instanceof ProjectExec project) {
      for (NamedExpression expression : CollectionConverters.asJava(project.projectList())) {
        if (!(expression instanceof AttributeReference)) {
          return Optional.empty();
        }
      }
      plan = project.child();
    }
    if (plan instanceof InputAdapter adapter) {
      plan = adapter.child();
    }
    if (!(plan instanceof ColumnarToRowExec toRows) || !toRows.child().supportsColumnar()) {
      return Optional.empty();
    }
    SparkPlan source = toRows.child();
    List<Attribute> available = CollectionConverters.asJava(source.output());
    int[] ordinals = new int[wanted.size()];
    for (int i = 0; i < ordinals.length; i++) {
      ordinals[i] = -1;
      for (int j = 0; j < available.size(); j++) {
        if (available.get(j).exprId().equals(wanted.get(i).exprId())) {
          ordinals[i] = j;
        }
      }
      if (ordinals[i] < 0) {
        return Optional.empty();
      }
    }
    return Optional.of(new ColumnarInput(source, ordinals));
  }

  RDD<ColumnarBatch> batches() {
    return columnar.executeColumnar();
  }

  /** For column {@code i} of the wanted rows, its index in the source's batches. */
  int[] ordinals() {
    return ordinals.clone();
  }
}
