package dev.sparklinear.spark.parquet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sparklinear.core.block.FloatBlock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.datasources.parquet.SparkToParquetSchemaConverter;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows whose output lists come in runs from blocks ({@link FloatListRuns}) make the very file, byte for byte, that the
 * same rows make written one by one: pages and row groups end on the same rows, with the same levels, values and
 * statistics.
 */
class PartWriterTest {
  private static final int WIDTH = 16;
  /** The rows: kept columns first, then the output, as the partition runner shows them. */
  private static final StructType ROWS = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("name", DataTypes.StringType, true)
      .add("f", DataTypes.FloatType, true)
      .add("output", DataTypes.createArrayType(DataTypes.FloatType, false), true);
  /** The file's columns, in another order than the rows': the output first. */
  private static final StructType FILE = new StructType(new org.apache.spark.sql.types.StructField[] {
      ROWS.fields()[3], ROWS.fields()[0], ROWS.fields()[1], ROWS.fields()[2]});
  private static final int[] ORDINALS = {3, 0, 1, 2};
  private static final float PAYLOAD_NAN = Float.intBitsToFloat(0x7fc00123);

  @TempDir
  Path tmp;

  /** A block of outputs and, per row of the block's rows, the block row its output is or -1 for a null output. */
  private record Block(FloatBlock values, int[] blockRowOf) {
  }

  /**
   * The rows of a list of blocks, in runs as the partition runner gives them. A block left behind is overwritten with
   * garbage, as the runner's pool reuses its buffer for the next block: a writer that copied a run late would write
   * the garbage.
   */
  private static final class BlockRows implements FloatListRuns {
    private final List<Block> blocks;
    private int block = -1;
    private int row;
    private long id;

    BlockRows(List<Block> blocks) {
      this.blocks = blocks;
    }

    @Override
    public boolean hasNext() {
      while (block < 0 || (block < blocks.size() && row >= blocks.get(block).blockRowOf().length)) {
        if (block >= 0) {
          FloatBlock left = blocks.get(block).values();
          for (int r = 0; r < left.rows(); r++) {
            for (int j = 0; j < left.cols(); j++) {
              left.set(r, j, -12345f);
            }
          }
        }
        block++;
        row = 0;
      }
      return block < blocks.size();
    }

    @Override
    public InternalRow next() {
      hasNext();
      Block current = blocks.get(block);
      int blockRow = current.blockRowOf()[row++];
      long i = id++;
      ColumnarArray output = null;
      if (blockRow >= 0) {
        OnHeapColumnVector vector = new OnHeapColumnVector(WIDTH, DataTypes.FloatType);
        vector.putFloats(0, WIDTH, current.values().row(blockRow), 0);
        output = new ColumnarArray(vector, 0, WIDTH);
      }
      return new GenericInternalRow(new Object[] {i, i % 3 == 0 ? null : UTF8String.fromString("n" + i % 5),
          i % 4 == 0 ? null : i % 7 == 0 ? -0.0f : (float) Math.sin(i), output});
    }

    @Override
    public int listOrdinal() {
      return 3;
    }

    @Override
    public int runLength() {
      int[] map = blocks.get(block).blockRowOf();
      int first = map[row];
      int end = row;
      while (first >= 0 && end < map.length && map[end] == first + (end - row)) {
        end++;
      }
      return end - row;
    }

    @Override
    public FloatBlock runBlock() {
      return blocks.get(block).values();
    }

    @Override
    public int runFirstRow() {
      return blocks.get(block).blockRowOf()[row];
    }
  }

  /** The same rows as a plain iterator, which the writer takes row by row. */
  private static Iterator<InternalRow> oneByOne(Iterator<InternalRow> rows) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public InternalRow next() {
        return rows.next();
      }
    };
  }

  /** An output value: NaN (Java's and one with a payload), infinities and zeros of both signs now and then. */
  private static float value(int block, int r, int j) {
    int k = (block * 7919 + r) * WIDTH + j;
    return k % 211 == 0 ? Float.NaN : k % 307 == 0 ? PAYLOAD_NAN : k % 401 == 0 ? Float.NEGATIVE_INFINITY
        : k % 13 == 0 ? -0.0f : k % 17 == 0 ? 0.0f : (float) Math.cos(k) * 100f;
  }

  /**
   * Blocks of 700, 0, 1, 1500, 2300 and 37 rows. Block 3 has null outputs (at its first row, two in a row in the
   * middle, and its last row), block 4 none; only block 4's first 800 rows hold NaN.
   */
  private static List<Block> blocks(BufferAllocator allocator) {
    int[] sizes = {700, 0, 1, 1500, 2300, 37};
    List<Block> blocks = new ArrayList<>();
    for (int b = 0; b < sizes.length; b++) {
      List<Integer> nulls = b == 3 ? List.of(0, 640, 641, 1499) : List.of();
      int[] map = new int[sizes[b]];
      int valid = 0;
      for (int r = 0; r < map.length; r++) {
        map[r] = nulls.contains(r) ? -1 : valid++;
      }
      FloatBlock values = FloatBlock.allocate(allocator, valid, WIDTH);
      for (int r = 0; r < valid; r++) {
        for (int j = 0; j < WIDTH; j++) {
          float v = value(b, r, j);
          values.set(r, j, Float.isNaN(v) && !(b == 4 && r < 800) ? 1.5f : v);
        }
      }
      blocks.add(new Block(values, map));
    }
    return blocks;
  }

  private Path write(String name, boolean inRuns, BufferAllocator allocator) throws IOException {
    Configuration conf = new Configuration();
    // Pages of 64 rows of outputs, and row groups of a few thousand rows: runs span both.
    conf.set("parquet.page.size", String.valueOf(64 * WIDTH * Float.BYTES));
    conf.set("parquet.block.size", String.valueOf(96 * 1024));
    SQLConf sqlConf = new SQLConf();
    sqlConf.setConfString("spark.sql.parquet.writeLegacyFormat", "true");
    MessageType schema = new SparkToParquetSchemaConverter(sqlConf).convert(FILE);
    Path file = tmp.resolve(name + ".parquet");
    List<Block> blocks = blocks(allocator);
    try {
      PartWriter writer = new PartWriter(new org.apache.hadoop.fs.Path(file.toUri()), conf, FILE, ORDINALS, schema,
          CompressionCodecName.SNAPPY, Map.of("org.apache.spark.version", "test"));
      BlockRows rows = new BlockRows(blocks);
      writer.writeAll(inRuns ? rows : oneByOne(rows));
      writer.close();
      assertThat(writer.rows()).isEqualTo(4538);
    } finally {
      blocks.forEach(block -> block.values().close());
    }
    return file;
  }

  @Test
  void runsOfOutputsWriteTheFileTheirRowsWriteOneByOne() throws IOException {
    try (BufferAllocator allocator = new RootAllocator()) {
      Path oneByOne = write("one-by-one", false, allocator);
      Path inRuns = write("in-runs", true, allocator);

      assertThat(Files.readAllBytes(inRuns)).isEqualTo(Files.readAllBytes(oneByOne));
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
          new org.apache.hadoop.fs.Path(inRuns.toUri()), new Configuration()))) {
        List<BlockMetaData> groups = reader.getFooter().getBlocks();
        assertThat(groups).hasSizeGreaterThan(2);
        ColumnChunkMetaData output = groups.get(0).getColumns().get(0);
        assertThat(output.getPath().toDotString()).isEqualTo("output.array");
        assertThat(reader.readOffsetIndex(output).getPageCount()).isGreaterThan(10);
        assertThat(groups.stream().mapToLong(BlockMetaData::getRowCount).sum()).isEqualTo(4538);
      }
      assertThat(allocator.getAllocatedMemory()).as("bytes still allocated").isZero();
    }
  }
}
