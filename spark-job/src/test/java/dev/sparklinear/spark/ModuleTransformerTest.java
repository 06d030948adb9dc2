package dev.sparklinear.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.block.FloatBlock;
import dev.sparklinear.core.nn.CallContext;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.Linear;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.testing.LocalSpark;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ModuleTransformerTest extends LocalSpark {

  /** The input representations the transformer accepts. */
  enum InputType {
    FLOAT_ARRAY,
    DOUBLE_ARRAY,
    DENSE_VECTOR,
    SPARSE_VECTOR,
    SCALAR_COLUMNS
  }

  private static final int IN = 6;
  private static final int OUT = 3;

  /** Rows of (id, name, features) with features as doubles that are exactly representable as floats. */
  private static double[][] randomFeatures(int rows, int width, long seed) {
    Random random = new Random(seed);
    double[][] out = new double[rows][width];
    for (double[] row : out) {
      for (int k = 0; k < width; k++) {
        // Sparse-ish, so that sparse vectors have real zeros; float-exact, so every input type means the same.
        row[k] = random.nextInt(4) == 0 ? 0.0 : (double) (float) (random.nextGaussian() * 3);
      }
    }
    return out;
  }

  private static Dataset<Row> frame(InputType type, double[][] features, int partitions) {
    int width = features.length == 0 ? IN : features[0].length;
    List<StructField> fields = new ArrayList<>();
    fields.add(new StructField("id", DataTypes.LongType, false, Metadata.empty()));
    fields.add(new StructField("name", DataTypes.StringType, true, Metadata.empty()));
    switch (type) {
      case FLOAT_ARRAY -> fields.add(field("features", DataTypes.createArrayType(DataTypes.FloatType, false)));
      case DOUBLE_ARRAY -> fields.add(field("features", DataTypes.createArrayType(DataTypes.DoubleType, false)));
      case DENSE_VECTOR, SPARSE_VECTOR -> fields.add(field("features", SQLDataTypes.VectorType()));
      case SCALAR_COLUMNS -> {
        for (int k = 0; k < width; k++) {
          // Mixed numeric types, as real tables have.
          fields.add(field("f" + k, k % 2 == 0 ? DataTypes.DoubleType : DataTypes.FloatType));
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < features.length; i++) {
      List<Object> values = new ArrayList<>();
      values.add((long) i * 10);
      values.add(i % 3 == 0 ? null : "row-" + i);
      double[] x = features[i];
      switch (type) {
        case FLOAT_ARRAY -> {
          Float[] boxed = new Float[x.length];
          for (int k = 0; k < x.length; k++) {
            boxed[k] = (float) x[k];
          }
          values.add(Arrays.asList(boxed));
        }
        case DOUBLE_ARRAY -> values.add(Arrays.stream(x).boxed().toList());
        case DENSE_VECTOR -> values.add(Vectors.dense(x));
        case SPARSE_VECTOR -> values.add(Vectors.dense(x).toSparse());
        case SCALAR_COLUMNS -> {
          for (int k = 0; k < x.length; k++) {
            values.add(k % 2 == 0 ? (Object) x[k] : (Object) (float) x[k]);
          }
        }
      }
      rows.add(RowFactory.create(values.toArray()));
    }
    return spark.createDataFrame(rows, new StructType(fields.toArray(new StructField[0]))).repartition(partitions);
  }

  private static StructField field(String name, org.apache.spark.sql.types.DataType type) {
    return new StructField(name, type, true, Metadata.empty());
  }

  private static ModuleTransformer transformerFor(Linear fc, InputType type) {
    ModuleTransformer t = new ModuleTransformer(fc);
    if (type == InputType.SCALAR_COLUMNS) {
      String[] columns = new String[fc.inFeatures()];
      for (int k = 0; k < columns.length; k++) {
        columns[k] = "f" + k;
      }
      t.setInputCols(columns);
    } else {
      t.setInputCol("features");
    }
    return t;
  }

  /** Plain double-precision {@code x W^T + b}, independent of the kernels. */
  private static double[] reference(Linear fc, double[] x) {
    double[] y = new double[fc.outFeatures()];
    for (int j = 0; j < y.length; j++) {
      double sum = fc.hasBias() ? fc.bias().get().get(j) : 0.0;
      for (int k = 0; k < x.length; k++) {
        sum += (double) (float) x[k] * fc.weight().get(j, k);
      }
      y[j] = sum;
    }
    return y;
  }

  /** float32 accumulation error bound: a few ulps of the sum of |x_k w_jk|. */
  private static double tolerance(Linear fc, double[] x, int j) {
    double magnitude = fc.hasBias() ? Math.abs(fc.bias().get().get(j)) : 0.0;
    for (int k = 0; k < x.length; k++) {
      magnitude += Math.abs(x[k] * fc.weight().get(j, k));
    }
    return 1e-6 + 4 * x.length * Math.ulp((float) magnitude);
  }

  private static float[] outputOf(Row row, OutputLayout layout, int out) {
    float[] y = new float[out];
    switch (layout) {
      case ARRAY -> {
        List<Float> list = row.getList(row.fieldIndex("output"));
        for (int j = 0; j < out; j++) {
          y[j] = list.get(j);
        }
      }
      case VECTOR -> {
        Vector v = row.getAs("output");
        for (int j = 0; j < out; j++) {
          y[j] = (float) v.apply(j);
        }
      }
      case COLUMNS -> {
        for (int j = 0; j < out; j++) {
          y[j] = row.getFloat(row.fieldIndex("output_" + j));
        }
      }
    }
    return y;
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (InputType type : InputType.values()) {
      for (OutputLayout layout : OutputLayout.values()) {
        for (boolean bias : new boolean[] {false, true}) {
          for (int blockRows : new int[] {1, 7, 4096}) {
            out.add(Arguments.of(type, layout, bias, blockRows));
          }
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} -> {1}, bias={2}, block.max-rows={3}")
  @MethodSource("cases")
  void outputEqualsRowByRowReference(InputType type, OutputLayout layout, boolean bias, int blockRows) {
    Linear fc = new Linear(IN, OUT, bias, 11);
    double[][] x = randomFeatures(23, IN, 5);
    Dataset<Row> input = frame(type, x, 3);
    Dataset<Row> output = transformerFor(fc, type)
        .setOutputLayout(layout)
        .setBlockMaxRows(blockRows)
        .setKeepCols("id", "name")
        .transform(input);

    List<Row> rows = output.collectAsList();
    assertThat(rows).hasSize(x.length);
    for (Row row : rows) {
      int i = (int) (row.getLong(0) / 10);
      assertThat(row.get(1)).isEqualTo(i % 3 == 0 ? null : "row-" + i);
      float[] y = outputOf(row, layout, OUT);
      double[] expected = reference(fc, x[i]);
      for (int j = 0; j < OUT; j++) {
        assertThat((double) y[j]).as("row %d output %d", i, j).isCloseTo(expected[j],
            org.assertj.core.data.Offset.offset(tolerance(fc, x[i], j)));
      }
    }
    assertNoArrowMemoryHeld();
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(InputType.class)
  void emptyPartitionsGiveNoRowsAndHoldNoMemory(InputType type) {
    Linear fc = new Linear(IN, OUT, true, 12);
    double[][] x = randomFeatures(5, IN, 6);
    // 5 rows over 12 partitions: most partitions are empty.
    Dataset<Row> output = transformerFor(fc, type).setKeepCols("id").transform(frame(type, x, 12));
    List<Row> rows = output.collectAsList();
    assertThat(rows).extracting(r -> r.getLong(0)).containsExactlyInAnyOrder(0L, 10L, 20L, 30L, 40L);
    for (Row row : rows) {
      double[] expected = reference(fc, x[(int) (row.getLong(0) / 10)]);
      assertThat((double) outputOf(row, OutputLayout.ARRAY, OUT)[2])
          .isCloseTo(expected[2], org.assertj.core.data.Offset.offset(1e-4));
    }
    assertNoArrowMemoryHeld();
  }

  @Test
  void keepsEveryColumnWithItsTypeAndThePartitionOrder() {
    Linear fc = new Linear(IN, OUT, true, 3);
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(200, IN, 9), 3);
    Dataset<Row> output = transformerFor(fc, InputType.FLOAT_ARRAY).setBlockMaxRows(16).transform(input);

    StructType in = input.schema();
    assertThat(Arrays.copyOf(output.schema().fields(), in.size())).containsExactly(in.fields());
    assertThat(output.schema().apply("output").dataType())
        .isEqualTo(DataTypes.createArrayType(DataTypes.FloatType, false));
    List<Row> before = input.collectAsList();
    List<Row> after = output.collectAsList();
    assertThat(after).hasSameSizeAs(before);
    for (int i = 0; i < before.size(); i++) {
      for (int c = 0; c < in.size(); c++) {
        assertThat(after.get(i).get(c)).isEqualTo(before.get(i).get(c));
      }
    }
  }

  @Test
  void integerArraysAsJsonSourcesInferThemAreComputedInFloat32() {
    Linear fc = new Linear(4, 3, false);
    fc.setWeight(new dev.sparklinear.core.nn.Parameter(dev.sparklinear.core.tensor.Tensor.of(
        new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}})));
    Dataset<Row> input = spark.createDataFrame(
        List.of(RowFactory.create(1L, Arrays.asList(1L, 2L, 3L, 4L)), RowFactory.create(2L, Arrays.asList(1L, 0L, 0L, 0L))),
        new StructType(new StructField[] {
            field("id", DataTypes.LongType), field("features", DataTypes.createArrayType(DataTypes.LongType))}));
    List<Row> rows = new ModuleTransformer(fc).setInputCol("features").setKeepCols("id").transform(input)
        .orderBy("id").collectAsList();
    assertThat(rows.get(0).<Float>getList(1)).containsExactly(30f, 40f, 50f);
    assertThat(rows.get(1).<Float>getList(1)).containsExactly(1f, 2f, 3f);
  }

  @Test
  void seedExampleGivesThirtyFortyFifty() {
    Linear fc = new Linear(4, 3, false);
    fc.setWeight(new dev.sparklinear.core.nn.Parameter(dev.sparklinear.core.tensor.Tensor.of(
        new float[][] {{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}})));
    Dataset<Row> input = spark.createDataFrame(
        List.of(RowFactory.create(1L, Arrays.asList(1f, 2f, 3f, 4f))),
        new StructType(new StructField[] {
            field("id", DataTypes.LongType), field("features", DataTypes.createArrayType(DataTypes.FloatType))}));
    Row row = new ModuleTransformer(fc).setInputCol("features").transform(input).collectAsList().get(0);
    assertThat(row.<Float>getList(2)).containsExactly(30f, 40f, 50f);
  }

  /** Counts blocks and rows on the executors through Spark accumulators. */
  static final class CountingHook implements ForwardHook, Serializable {
    private static final long serialVersionUID = 1L;
    final LongAccumulator blocks;
    final LongAccumulator rows;
    final LongAccumulator badContexts;

    CountingHook(LongAccumulator blocks, LongAccumulator rows, LongAccumulator badContexts) {
      this.blocks = blocks;
      this.rows = rows;
      this.badContexts = badContexts;
    }

    @Override
    public FloatBlock apply(Module module, FloatBlock input, FloatBlock output, CallContext context) {
      blocks.add(1);
      rows.add(output.rows());
      if (context.partitionId() < 0 || context.blockIndex() < 0 || context.rows() != input.rows()) {
        badContexts.add(1);
      }
      return null;
    }
  }

  @Test
  void hooksRegisteredOnTheModuleRunOnEveryBlock() {
    Linear fc = new Linear(IN, OUT, true, 4);
    LongAccumulator blocks = spark.sparkContext().longAccumulator("blocks");
    LongAccumulator rows = spark.sparkContext().longAccumulator("rows");
    LongAccumulator bad = spark.sparkContext().longAccumulator("bad");
    fc.registerForwardHook(new CountingHook(blocks, rows, bad));
    // 3 partitions of 10 rows each (a range is split evenly), blocks of 4 rows: 3 blocks per partition.
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(30, IN, 1), 1);
    Dataset<Row> threeParts = input.repartitionByRange(3, input.col("id"));
    long count = transformerFor(fc, InputType.FLOAT_ARRAY).setBlockMaxRows(4).transform(threeParts).count();

    assertThat(count).isEqualTo(30);
    assertThat(rows.value()).isEqualTo(30);
    assertThat(blocks.value()).isEqualTo(9);
    assertThat(bad.value()).isZero();
  }

  @Test
  void worksAsAPipelineStage() {
    Linear fc = new Linear(IN, OUT, false, 8);
    double[][] x = randomFeatures(5, IN, 2);
    Dataset<Row> input = frame(InputType.DENSE_VECTOR, x, 2);
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
        transformerFor(fc, InputType.DENSE_VECTOR).setOutputLayout(OutputLayout.VECTOR)});
    List<Row> rows = pipeline.fit(input).transform(input).collectAsList();
    assertThat(rows).hasSize(5);
    for (Row row : rows) {
      int i = (int) (row.getLong(0) / 10);
      Vector y = row.getAs("output");
      assertThat(y.size()).isEqualTo(OUT);
      assertThat(y.apply(0)).isCloseTo(reference(fc, x[i])[0], org.assertj.core.data.Offset.offset(1e-4));
    }
  }

  @Test
  void rejectsMissingFeatureColumn() {
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(2, IN, 1), 1);
    assertThatThrownBy(() -> new ModuleTransformer(new Linear(IN, OUT)).setInputCol("feature").transform(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The feature column 'feature' does not exist. Available columns: [id, name, features]");
  }

  @Test
  void rejectsColumnOfTheWrongTypeNamingColumnAndType() {
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(2, IN, 1), 1);
    assertThatThrownBy(() -> new ModuleTransformer(new Linear(IN, OUT)).setInputCol("name").transform(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Column 'name' has type string, which is not a feature vector");
  }

  @Test
  void rejectsVectorOfWrongWidthNamingTheRow() {
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(3, IN + 1, 1), 1);
    assertThatThrownBy(() -> new ModuleTransformer(new Linear(IN, OUT)).setInputCol("features")
            .transform(input).collectAsList())
        .hasRootCauseInstanceOf(InvalidRowException.class)
        .rootCause()
        .hasMessageContaining("column 'features' has 7 values, expected in_features=6")
        .hasMessageContaining("mat1 and mat2 shapes cannot be multiplied (1x7 and 6x3)")
        .hasMessageContaining("(id=");
    assertNoArrowMemoryHeld();
  }

  @Test
  void rejectsOutputColumnThatAlreadyExists() {
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(2, IN, 1), 1);
    assertThatThrownBy(() -> new ModuleTransformer(new Linear(IN, OUT)).setInputCol("features").setOutputCol("name")
            .transform(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Output column 'name' already exists in the input");
  }

  /** Rows 0..4 of (id, features): row 1's vector is null and row 3's has IN + 1 values, in one partition. */
  private static Dataset<Row> frameWithInvalidRows(double[][] x) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      List<Float> features = new ArrayList<>();
      for (double v : x[i]) {
        features.add((float) v);
      }
      if (i == 3) {
        features.add(1f);
      }
      rows.add(RowFactory.create((long) i, i == 1 ? null : features));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    return spark.createDataFrame(rows, schema).coalesce(1);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"skip", "keep"})
  void handleInvalidSkipsInvalidRowsOrKeepsThemWithANullOutput(String handleInvalid) {
    Linear fc = new Linear(IN, OUT, true, 13);
    double[][] x = randomFeatures(5, IN, 14);
    List<Row> rows = new ModuleTransformer(fc).setInputCol("features").setKeepCols("id")
        .setHandleInvalid(handleInvalid).transform(frameWithInvalidRows(x)).collectAsList();

    List<Long> expectedIds = handleInvalid.equals("skip") ? List.of(0L, 2L, 4L) : List.of(0L, 1L, 2L, 3L, 4L);
    assertThat(rows).extracting(r -> r.getLong(0)).containsExactlyElementsOf(expectedIds);
    for (Row row : rows) {
      int i = (int) row.getLong(0);
      if (i == 1 || i == 3) {
        assertThat(row.isNullAt(1)).as("output of invalid row %d", i).isTrue();
        continue;
      }
      double[] expected = reference(fc, x[i]);
      List<Float> y = row.getList(1);
      for (int j = 0; j < OUT; j++) {
        assertThat((double) y.get(j)).as("row %d output %d", i, j)
            .isCloseTo(expected[j], org.assertj.core.data.Offset.offset(tolerance(fc, x[i], j)));
      }
    }
    assertNoArrowMemoryHeld();
  }

  @Test
  void handleInvalidErrorFailsOnTheFirstInvalidRow() {
    Dataset<Row> input = frameWithInvalidRows(randomFeatures(5, IN, 14));
    ModuleTransformer transformer = new ModuleTransformer(new Linear(IN, OUT)).setInputCol("features")
        .setKeepCols("id").setInvalidRows(InvalidRowPolicy.SKIP).setHandleInvalid("error");

    assertThatThrownBy(() -> transformer.transform(input).collectAsList())
        .rootCause()
        .isInstanceOf(InvalidRowException.class)
        .hasMessage("Invalid row 1 of partition 0 (id=1): column 'features' is null. Filter out or repair such rows,"
            + " or set invalid-rows to skip, null or quarantine.");
    assertNoArrowMemoryHeld();
  }

  @Test
  void handleInvalidAndInvalidRowsSetOnePolicyAndTheLastSetWins() {
    ModuleTransformer t = new ModuleTransformer(new Linear(IN, OUT));
    assertThat(t.getHandleInvalid()).isEqualTo("error");
    assertThat(t.getOrDefault(t.invalidRows())).isEqualTo("error");

    t.setHandleInvalid("keep");
    assertThat(t.getOrDefault(t.invalidRows())).isEqualTo("null");
    t.setInvalidRows(InvalidRowPolicy.QUARANTINE);
    assertThat(t.getHandleInvalid()).as("quarantine leaves rows out of the output as skip does").isEqualTo("skip");
    t.setInvalidRows(InvalidRowPolicy.NULL);
    assertThat(t.getHandleInvalid()).isEqualTo("keep");
    t.setHandleInvalid("skip");
    assertThat(t.getOrDefault(t.invalidRows())).isEqualTo("skip");
  }

  @Test
  void aParamMapSettingOneInvalidRowParamSetsTheOther() {
    ModuleTransformer t = new ModuleTransformer(new Linear(IN, OUT)).setInvalidRows(InvalidRowPolicy.ERROR);

    ModuleTransformer keep = t.copy(new org.apache.spark.ml.param.ParamMap().put(t.handleInvalid(), "keep"));
    assertThat(keep.getOrDefault(keep.invalidRows())).isEqualTo("null");
    ModuleTransformer quarantine = t.copy(new org.apache.spark.ml.param.ParamMap().put(t.invalidRows(),
        "quarantine"));
    assertThat(quarantine.getHandleInvalid()).isEqualTo("skip");
    assertThat(t.getHandleInvalid()).as("the original is left as it was").isEqualTo("error");
  }

  @Test
  void invalidRowParamsSetApartAndDisagreeingAreRefused() {
    ModuleTransformer t = new ModuleTransformer(new Linear(IN, OUT)).setInputCol("features")
        .setInvalidRows(InvalidRowPolicy.NULL);
    t.set(t.handleInvalid(), "skip");
    Dataset<Row> input = frame(InputType.FLOAT_ARRAY, randomFeatures(2, IN, 1), 1);

    assertThatThrownBy(() -> t.transform(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Params handleInvalid=skip and invalidRows=null disagree: set the invalid-row policy with"
            + " setHandleInvalid or setInvalidRows");
    ModuleTransformer onlyHandleInvalid = new ModuleTransformer(new Linear(IN, OUT)).setInputCol("features");
    onlyHandleInvalid.set(onlyHandleInvalid.handleInvalid(), "keep");
    assertThat(onlyHandleInvalid.transformSchema(input.schema()).apply("output").nullable())
        .as("keep makes the output nullable").isTrue();
  }

  @Test
  void rejectsAnUnknownHandleInvalidValueAsSparkMlDoes() {
    ModuleTransformer t = new ModuleTransformer(new Linear(IN, OUT));
    assertThatThrownBy(() -> t.setHandleInvalid("null"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(t.uid() + " parameter handleInvalid given invalid value null.");
    assertThatThrownBy(() -> t.setHandleInvalid("quarantine"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(t.uid() + " parameter handleInvalid given invalid value quarantine.");
    assertThat(t.getHandleInvalid()).isEqualTo("error");
  }
}
