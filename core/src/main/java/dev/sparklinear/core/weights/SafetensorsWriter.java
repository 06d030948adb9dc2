package dev.sparklinear.core.weights;

import dev.sparklinear.core.tensor.Dtype;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes tensors in the safetensors format, byte for byte as the reference library
 * ({@code safetensors.torch.save_file}, which runs the library's Rust serializer) writes the same tensors, so that
 * {@code load_file} reads them back into a PyTorch state dict.
 *
 * <p>The layout: an unsigned little-endian 64-bit header length {@code N}; {@code N} bytes of compact JSON, padded with
 * spaces to a multiple of 8 so that the data starts 8-byte aligned; then every tensor's little-endian values,
 * contiguous, in header order. As in the library:
 *
 * <ul>
 *   <li>tensors are ordered by dtype, widest alignment first ({@code I64} before {@code F32}), then by name
 *       (compared as UTF-8 bytes), whatever the map's order; the header lists them in that order, each as
 *       {@code {"dtype":..,"shape":[..],"data_offsets":[begin,end]}}, offsets relative to the end of the header;
 *   <li>a {@code __metadata__} map of strings, when given, comes first in the header (the library writes a Python
 *       dict's items in hash order; this writer keeps the map's iteration order); without metadata there is no
 *       {@code __metadata__} key, as with {@code metadata=None};
 *   <li>strings are escaped as the library's JSON writer does: {@code "} and {@code \}, the control characters as
 *       {@code \b \t \n \f \r} or <code>&#92;u00XX</code> (lowercase hex), everything else written as UTF-8.
 * </ul>
 *
 * <p>Float32 tensors are written as {@code F32}, int64 ones (integer buffers such as {@code num_batches_tracked}) as
 * {@code I64}, so the file holds the dtypes of {@code module.state_dict()}.
 *
 * <pre>{@code
 * try (OutputStream out = fileSystem.create(path)) {
 *   SafetensorsWriter.write(module.stateDict(), Map.of("format", "pt"), out);
 * }
 * }</pre>
 */
public final class SafetensorsWriter {
  private static final String METADATA_KEY = "__metadata__";
  private static final int ALIGNMENT = 8;
  /** Values per chunk when writing a tensor's data, so a large tensor is not copied whole into a byte array. */
  private static final int CHUNK_VALUES = 8192;

  private SafetensorsWriter() {}

  /** One header entry: the tensor, its safetensors dtype name and its byte range in the data buffer. */
  private record Entry(String name, byte[] utf8Name, Tensor tensor, String dtype, long begin, long end) {}

  /**
   * Writes {@code tensors} (and {@code metadata}, when not null) to {@code out}, which the caller opens and closes.
   *
   * @throws IllegalArgumentException for a tensor named {@code __metadata__}, or a null name, tensor or metadata entry
   * @throws IOException when writing to the stream fails
   */
  public static void write(Map<String, ? extends Tensor> tensors, Map<String, String> metadata, OutputStream out)
      throws IOException {
    Objects.requireNonNull(out, "out");
    List<Entry> entries = layout(tensors);
    byte[] header = header(entries, metadata);
    ByteBuffer length = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
    out.write(length.array());
    out.write(header);
    for (Entry entry : entries) {
      writeData(entry.tensor, out);
    }
  }

  /** The whole file in memory: what {@link #write} would write. */
  public static byte[] toBytes(Map<String, ? extends Tensor> tensors, Map<String, String> metadata) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(tensors, metadata, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // A ByteArrayOutputStream does not fail.
    }
    return out.toByteArray();
  }

  /** The tensors in the library's order with their byte ranges. */
  private static List<Entry> layout(Map<String, ? extends Tensor> tensors) {
    Objects.requireNonNull(tensors, "tensors");
    List<Entry> sorted = new ArrayList<>();
    for (Map.Entry<String, ? extends Tensor> item : tensors.entrySet()) {
      String name = item.getKey();
      if (name == null) {
        throw new IllegalArgumentException("Cannot write a tensor without a name (a null key)");
      }
      if (name.equals(METADATA_KEY)) {
        throw new IllegalArgumentException("Cannot write a tensor named '" + METADATA_KEY + "': the format keeps that"
            + " key for the metadata; rename the tensor");
      }
      Tensor tensor = item.getValue();
      if (tensor == null) {
        throw new IllegalArgumentException("Cannot write tensor '" + name + "': it is null");
      }
      String dtype = tensor.dtype() == Dtype.INT64 ? "I64" : "F32";
      sorted.add(new Entry(name, name.getBytes(StandardCharsets.UTF_8), tensor, dtype, 0, 0));
    }
    // The library sorts by dtype, widest alignment first, then by name; of the two dtypes written, I64 comes first.
    sorted.sort(Comparator.comparing((Entry e) -> e.dtype.equals("I64") ? 0 : 1)
        .thenComparing(Entry::utf8Name, Arrays::compareUnsigned));
    List<Entry> placed = new ArrayList<>(sorted.size());
    long offset = 0;
    for (Entry entry : sorted) {
      long bytes = (long) entry.tensor.numel() * (entry.tensor.dtype() == Dtype.INT64 ? Long.BYTES : Float.BYTES);
      placed.add(new Entry(entry.name, entry.utf8Name, entry.tensor, entry.dtype, offset, offset + bytes));
      offset += bytes;
    }
    return placed;
  }

  private static byte[] header(List<Entry> entries, Map<String, String> metadata) {
    StringBuilder json = new StringBuilder("{");
    if (metadata != null) {
      json.append(quote(METADATA_KEY)).append(":{");
      boolean first = true;
      for (Map.Entry<String, String> item : metadata.entrySet()) {
        if (item.getKey() == null || item.getValue() == null) {
          throw new IllegalArgumentException("Cannot write metadata " + item + ": keys and values must be strings");
        }
        json.append(first ? "" : ",").append(quote(item.getKey())).append(':').append(quote(item.getValue()));
        first = false;
      }
      json.append('}');
      if (!entries.isEmpty()) {
        json.append(',');
      }
    }
    for (int i = 0; i < entries.size(); i++) {
      Entry entry = entries.get(i);
      json.append(i == 0 ? "" : ",").append(quote(entry.name)).append(":{\"dtype\":\"").append(entry.dtype)
          .append("\",\"shape\":[");
      int[] shape = entry.tensor.shape();
      for (int d = 0; d < shape.length; d++) {
        json.append(d == 0 ? "" : ",").append(shape[d]);
      }
      json.append("],\"data_offsets\":[").append(entry.begin).append(',').append(entry.end).append("]}");
    }
    json.append('}');
    byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
    int padding = (ALIGNMENT - text.length % ALIGNMENT) % ALIGNMENT;
    byte[] padded = Arrays.copyOf(text, text.length + padding);
    Arrays.fill(padded, text.length, padded.length, (byte) ' ');
    return padded;
  }

  /** A JSON string as the library's JSON writer (serde_json) escapes it. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  private static void writeData(Tensor tensor, OutputStream out) throws IOException {
    boolean longs = tensor.dtype() == Dtype.INT64;
    int size = longs ? Long.BYTES : Float.BYTES;
    int numel = tensor.numel();
    ByteBuffer chunk = ByteBuffer.allocate(Math.min(numel, CHUNK_VALUES) * size).order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < numel; start += CHUNK_VALUES) {
      int end = Math.min(numel, start + CHUNK_VALUES);
      chunk.clear();
      for (int i = start; i < end; i++) {
        if (longs) {
          chunk.putLong(tensor.getLong(i));
        } else {
          // The raw bits, so that NaN payloads and -0.0 are written as they are held.
          chunk.putInt(Float.floatToRawIntBits(tensor.get(i)));
        }
      }
      out.write(chunk.array(), 0, chunk.position());
    }
  }
}
