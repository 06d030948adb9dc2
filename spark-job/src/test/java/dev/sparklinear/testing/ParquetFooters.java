package dev.sparklinear.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;

/** Reads the footers of the Parquet files Spark wrote into a folder: their schema and column chunks. */
public final class ParquetFooters {
  private final List<ParquetMetadata> footers;

  private ParquetFooters(List<ParquetMetadata> footers) {
    this.footers = footers;
  }

  /** The {@code part-*.parquet} files in {@code folder}, sorted by name. */
  public static List<Path> partFiles(Path folder) {
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(f -> f.getFileName().toString().startsWith("part-")
          && f.getFileName().toString().endsWith(".parquet")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + folder, e);
    }
  }

  /** The footers of every {@code part-*.parquet} file in {@code folder}; fails when there is none. */
  public static ParquetFooters of(Path folder) {
    List<ParquetMetadata> footers = new ArrayList<>();
    try {
      for (Path file : partFiles(folder)) {
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
            new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
          footers.add(reader.getFooter());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the Parquet footers in " + folder, e);
    }
    if (footers.isEmpty()) {
      throw new AssertionError("No Parquet part file in " + folder);
    }
    return new ParquetFooters(footers);
  }

  /** The footers, one per part file, in file-name order. */
  public List<ParquetMetadata> footers() {
    return footers;
  }

  /** The Parquet schema of the first file (Spark writes the same schema into every file of one write). */
  public MessageType schema() {
    return footers.get(0).getFileMetaData().getSchema();
  }

  /** The column chunks of the leaf at {@code path} (e.g. {@code output, array}) in every row group of every file. */
  public List<ColumnChunkMetaData> chunks(String... path) {
    List<ColumnChunkMetaData> chunks = new ArrayList<>();
    for (ParquetMetadata footer : footers) {
      for (BlockMetaData block : footer.getBlocks()) {
        for (ColumnChunkMetaData chunk : block.getColumns()) {
          if (Arrays.equals(chunk.getPath().toArray(), path)) {
            chunks.add(chunk);
          }
        }
      }
    }
    if (chunks.isEmpty()) {
      throw new AssertionError("No column chunk at " + String.join(".", path) + " in schema " + schema());
    }
    return chunks;
  }
}
