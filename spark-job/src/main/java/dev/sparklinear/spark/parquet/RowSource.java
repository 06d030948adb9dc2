package dev.sparklinear.spark.parquet;

import java.util.List;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.RDDScanExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The rows of a DataFrame to write, and where each written column sits in them.
 *
 * <p>A DataFrame made from an RDD of rows ({@code LinearTransformer}'s output is one) is planned as a scan of that RDD
 * under a projection that copies every row into Spark's binary row format, arrays included. When the plan is just
 * that, possibly under a projection that only picks, reorders or renames columns (as adding column metadata does),
 * the writer reads the RDD's own rows and skips the copy. Any other plan gives Spark's rows.
 */
final class RowSource {
  private final RDD<InternalRow> rows;
  private final int[] ordinals;
  private final boolean direct;

  private RowSource(RDD<InternalRow> rows, int[] ordinals, boolean direct) {
    this.rows = rows;
    this.ordinals = ordinals;
    this.direct = direct;
  }

  static RowSource of(Dataset<Row> data) {
    SparkPlan plan = data.queryExecution().executedPlan();
    List<Attribute> output = CollectionConverters.asJava(plan.output());
    ExprId[] wanted = new ExprId[output.size()];
    for (int i = 0; i < wanted.length; i++) {
      wanted[i] = output.get(i).exprId();
    }
    SparkPlan node = plan instanceof WholeStageCodegenExec codegen ? codegen.child() : plan;
    if (node instanceof ProjectExec project) {
      List<NamedExpression> list = CollectionConverters.asJava(project.projectList());
      for (int i = 0; i < list.size(); i++) {
        NamedExpression expression = list.get(i);
        if (expression instanceof Alias alias && alias.child() instanceof AttributeReference source) {
          wanted[i] = source.exprId();
        } else if (!(expression instanceof AttributeReference)) {
          return sparkRows(data, wanted.length);
        }
      }
      node = project.child();
    }
    if (node instanceof InputAdapter adapter) {
      node = adapter.child();
    }
    if (!(node instanceof RDDScanExec scan)) {
      return sparkRows(data, wanted.length);
    }
    List<Attribute> available = CollectionConverters.asJava(scan.output());
    int[] ordinals = new int[wanted.length];
    for (int i = 0; i < wanted.length; i++) {
      ordinals[i] = -1;
      for (int j = 0; j < available.size(); j++) {
        if (available.get(j).exprId().equals(wanted[i])) {
          ordinals[i] = j;
        }
      }
      if (ordinals[i] < 0) {
        return sparkRows(data, wanted.length);
      }
    }
    return new RowSource(scan.rdd(), ordinals, true);
  }

  private static RowSource sparkRows(Dataset<Row> data, int columns) {
    int[] identity = new int[columns];
    for (int i = 0; i < columns; i++) {
      identity[i] = i;
    }
    return new RowSource(data.queryExecution().toRdd(), identity, false);
  }

  RDD<InternalRow> rows() {
    return rows;
  }

  /** For written column {@code i}, its position in {@link #rows}. */
  int[] ordinals() {
    return ordinals.clone();
  }

  /** Whether the rows are the RDD's own, without Spark's copy. */
  boolean direct() {
    return direct;
  }
}
