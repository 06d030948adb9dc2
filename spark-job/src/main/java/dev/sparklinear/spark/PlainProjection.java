package dev.sparklinear.spark;

import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A physical plan that only picks, reorders or renames the columns of the node below it (a projection of plain
 * columns, possibly under whole-stage code generation), seen as that node and which of its columns the plan's output
 * columns are. Both shortcuts past Spark's row copies use it: the columnar read ({@code ColumnarInput}) and the
 * columnar writer's direct rows.
 *
 * @param source the node whose columns the plan only projects
 * @param columns for each output column, the expression id it has in {@code source}
 */
public record PlainProjection(SparkPlan source, ExprId[] columns) {
  /** {@code plan} peeled down to the node it only projects, or empty when it computes anything. */
  public static Optional<PlainProjection> of(SparkPlan plan) {
    ExprId[] columns = CollectionConverters.asJava(plan.output()).stream().map(Attribute::exprId)
        .toArray(ExprId[]::new);
    SparkPlan node = plan instanceof WholeStageCodegenExec codegen ? codegen.child() : plan;
    if (node instanceof ProjectExec project) {
      List<NamedExpression> list = CollectionConverters.asJava(project.projectList());
      for (int i = 0; i < list.size(); i++) {
        NamedExpression expression = list.get(i);
        if (expression instanceof Alias alias && alias.child() instanceof AttributeReference renamed) {
          columns[i] = renamed.exprId();
        } else if (!(expression instanceof AttributeReference)) {
          return Optional.empty();
        }
      }
      node = project.child();
    }
    if (node instanceof InputAdapter adapter) {
      node = adapter.child();
    }
    return Optional.of(new PlainProjection(node, columns));
  }

  /**
   * For output column {@code i}, its position in the output of {@code node} (the source, or a node with the same
   * columns), or empty when some column is not there.
   */
  public Optional<int[]> ordinalsIn(SparkPlan node) {
    List<ExprId> available = CollectionConverters.asJava(node.output()).stream().map(Attribute::exprId).toList();
    int[] ordinals = new int[columns.length];
    for (int i = 0; i < columns.length; i++) {
      ordinals[i] = available.lastIndexOf(columns[i]);
      if (ordinals[i] < 0) {
        return Optional.empty();
      }
    }
    return Optional.of(ordinals);
  }
}
