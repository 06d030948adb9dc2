package dev.sparklinear.core.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads safetensors files, the format of {@code safetensors.torch.save_file(model.state_dict(), path)}, into a
 * {@link SafetensorsFile} of float32 tensors (and int64 ones, for integer buffers).
 *
 * <p>The format: an unsigned little-endian 64-bit header length {@code N}; {@code N} bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}}, plus an optional {@code __metadata__} map of
 * strings; then the data buffer, which the tensors' byte ranges must cover exactly, without holes or overlaps. F32,
 * F64, F16 and BF16 tensors are read as float32 (the last three widened or narrowed, as {@code tensor.float()} does);
 * I64 tensors, which a PyTorch state dict holds for integer buffers such as {@code num_batches_tracked}, are read
 * as int64 ({@link dev.sparklinear.core.tensor.Dtype#INT64}), exactly; any other dtype, and every inconsistency the reference implementation rejects, is a {@link WeightFileException}
 * naming the file, the tensor or byte offset, and what to do.
 *
 * <p>Limits: a header of at most {@value #MAX_HEADER_BYTES} bytes (the reference implementation's cap) and a file of
 * at most {@value #MAX_FILE_BYTES} bytes, just under 2 GiB, the largest array a JVM allocates. The whole file is read
 * into memory; larger models must be split into several files.
 *
 * <pre>{@code
 * // The Spark job opens the file through Hadoop and closes the stream itself:
 * try (InputStream in = fileSystem.open(path)) {
 *   SafetensorsFile weights = SafetensorsReader.read(in, path.toString());
 *   linear.loadStateDict(weights.withPrefix("fc.").tensors(), true);
 * }
 * }</pre>
 */
public final class SafetensorsReader {
  /** The largest header accepted, in bytes: the cap of the reference implementation. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  /** The largest file accepted, in bytes: just under 2 GiB, the largest array a JVM allocates. */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

  private static final String METADATA_KEY = "__metadata__";
  private static final int LENGTH_BYTES = 8;
  private static final Set<String> OTHER_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "U64",
      "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxStringLength((int) MAX_HEADER_BYTES).build())
          .build())
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private SafetensorsReader() {}

  /** The element types read, with their sizes in bytes; {@link NpyReader} reads the three of them NumPy has. */
  enum Dtype {
    F32(4), F64(8), F16(2), BF16(2), I64(8);

    final int size;

    Dtype(int size) {
      this.size = size;
    }

    /** Reads {@code count} values of this floating-point type from {@code bytes}, converted to float32. */
    float[] toFloats(ByteBuffer bytes, int count) {
      float[] values = new float[count];
      switch (this) {
        case F32 -> bytes.asFloatBuffer().get(values);
        case F64 -> {
          for (int i = 0; i < count; i++) {
            values[i] = (float) bytes.getDouble(8 * i);
          }
        }
        case F16 -> {
          for (int i = 0; i < count; i++) {
            values[i] = HalfFloats.halfToFloat(bytes.getShort(2 * i));
          }
        }
        case BF16 -> {
          for (int i = 0; i < count; i++) {
            values[i] = HalfFloats.bfloat16ToFloat(bytes.getShort(2 * i));
          }
        }
        case I64 -> throw new AssertionError("I64 is not a floating-point type");
      }
      return values;
    }
  }

  /** One header entry, checked on its own: a known dtype, a valid shape, byte range of the right length. */
  private record Entry(String name, Dtype dtype, int[] shape, int numel, long begin, long end) {
    String offsets() {
      return "[" + begin + ", " + end + "]";
    }
  }

  /** Reads the file at {@code path}, named by the path in messages. */
  public static SafetensorsFile read(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return read(in, path.toString());
    }
  }

  /** Reads a whole file held in memory; {@code source} names it in messages. */
  public static SafetensorsFile read(byte[] bytes, String source) {
    try {
      return read(new ByteArrayInputStream(bytes), source);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // A ByteArrayInputStream does not fail.
    }
  }

  /**
   * Reads one whole file from {@code in}, up to its end, and checks that nothing follows the data. The caller opens
   * and closes the stream.
   *
   * @param source the name of the file in messages, usually its path
   * @throws WeightFileException when the content is not a valid safetensors file of float tensors
   * @throws IOException when reading the stream fails
   */
  public static SafetensorsFile read(InputStream in, String source) throws IOException {
    WeightInput input = new WeightInput(in, source, MAX_FILE_BYTES); // Refuses a null stream or source.
    ByteBuffer lengthBytes = ByteBuffer.wrap(input.readFully(LENGTH_BYTES, "the 8-byte header length"));
    long headerLength = lengthBytes.order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
      throw new WeightFileException(source, "the header length in the first 8 bytes is "
          + Long.toUnsignedString(headerLength) + ", more than the limit of " + MAX_HEADER_BYTES
          + " bytes: this is not a safetensors file, or its start is damaged.");
    }
    JsonNode header = parseJson(input.readFully(headerLength, "the JSON header"), source);
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = parseEntries(header, metadata, source);

    long dataStart = input.position();
    long needed = entries.stream().mapToLong(Entry::end).max().orElse(0);
    byte[] data = input.readUpTo(needed, "the data buffer");
    checkLayout(entries, data.length, dataStart, source);
    input.expectEnd("the data buffer");

    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry entry : entries) {
      tensors.put(entry.name, decode(entry, data));
    }
    return new SafetensorsFile(source, tensors, metadata);
  }

  private static JsonNode parseJson(byte[] headerBytes, String source) {
    String where = "the header (bytes " + LENGTH_BYTES + " to " + (LENGTH_BYTES + headerBytes.length) + ")";
    String text;
    try {
      text = WeightInput.strictUtf8(headerBytes);
    } catch (CharacterCodingException e) {
      throw new WeightFileException(source, where + " is not valid UTF-8: the file is damaged or is not a safetensors"
          + " file.", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation location = e.getLocation();
      String at = location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
      throw new WeightFileException(source, where + " is not valid JSON" + at + ": " + shorten(e.getOriginalMessage())
          + ". The file is damaged or is not a safetensors file.", e);
    }
    if (root == null || !root.isObject()) {
      throw new WeightFileException(source, where + " is " + describe(root) + ", not a JSON object mapping tensor"
          + " names to {dtype, shape, data_offsets}: the file is damaged or is not a safetensors file.");
    }
    return root;
  }

  private static List<Entry> parseEntries(JsonNode header, Map<String, String> metadata, String source) {
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : header.properties()) {
      if (field.getKey().equals(METADATA_KEY)) {
        parseMetadata(field.getValue(), metadata, source);
      } else {
        entries.add(parseEntry(field.getKey(), field.getValue(), source));
      }
    }
    return entries;
  }

  private static void parseMetadata(JsonNode node, Map<String, String> metadata, String source) {
    if (node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw new WeightFileException(source, "the header's " + METADATA_KEY + " is " + describe(node)
          + ", not an object of strings. Save metadata as a dict of str to str.");
    }
    for (Map.Entry<String, JsonNode> item : node.properties()) {
      if (!item.getValue().isTextual()) {
        throw new WeightFileException(source, "the header's " + METADATA_KEY + " value for " + quote(item.getKey())
            + " is " + describe(item.getValue()) + ", not a string. Save metadata as a dict of str to str.");
      }
      metadata.put(item.getKey(), item.getValue().textValue());
    }
  }

  private static Entry parseEntry(String name, JsonNode node, String source) {
    String tensor = "tensor " + quote(name);
    String fix = " The file is damaged or was not written by a safetensors library; save it again.";
    if (!node.isObject()) {
      throw new WeightFileException(source, "the header entry for " + tensor + " is " + describe(node)
          + ", not an object with dtype, shape and data_offsets." + fix);
    }
    JsonNode dtypeNode = required(node, "dtype", tensor, source, fix);
    if (!dtypeNode.isTextual()) {
      throw new WeightFileException(source, tensor + " has dtype " + describe(dtypeNode) + ", not a string." + fix);
    }
    Dtype dtype = dtype(dtypeNode.textValue(), tensor, source);

    JsonNode shapeNode = required(node, "shape", tensor, source, fix);
    if (!shapeNode.isArray()) {
      throw new WeightFileException(source, tensor + " has shape " + describe(shapeNode)
          + ", not an array of dimensions." + fix);
    }
    long[] dims = integers(shapeNode, "shape", tensor, source, fix);
    int[] shape = new int[dims.length];
    long numel = 1;
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new WeightFileException(source, tensor + " has shape " + Arrays.toString(dims)
            + ": dimensions must be >= 0." + fix);
      }
      if (dims[i] > Integer.MAX_VALUE) {
        throw new WeightFileException(source, tensor + " has shape " + Arrays.toString(dims) + ": dimension " + i
            + " is larger than " + Integer.MAX_VALUE + ", which a Java array cannot hold." + fix);
      }
      shape[i] = (int) dims[i];
      // Saturate instead of overflowing: a saturated count fails the check below unless a later dimension is 0.
      numel = dims[i] != 0 && numel > MAX_FILE_BYTES / dims[i] ? MAX_FILE_BYTES + 1 : numel * dims[i];
    }
    if (numel > MAX_FILE_BYTES) {
      throw new WeightFileException(source, tensor + " has shape " + Arrays.toString(dims)
          + ", more values than one Java array holds. Split the tensor or use a smaller model.");
    }

    JsonNode offsetsNode = required(node, "data_offsets", tensor, source, fix);
    if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
      throw new WeightFileException(source, tensor + " has data_offsets " + describe(offsetsNode)
          + ", not an array [begin, end]." + fix);
    }
    long[] offsets = integers(offsetsNode, "data_offsets", tensor, source, fix);
    long begin = offsets[0];
    long end = offsets[1];
    if (begin < 0 || end < begin) {
      throw new WeightFileException(source, tensor + " has data_offsets [" + begin + ", " + end
          + "]: they must satisfy 0 <= begin <= end." + fix);
    }
    long expectedBytes = numel * dtype.size;
    if (end - begin != expectedBytes) {
      throw new WeightFileException(source, tensor + " has data_offsets [" + begin + ", " + end + "], "
          + (end - begin) + " bytes, but shape " + Arrays.toString(dims) + " of " + dtype + " needs " + expectedBytes
          + " bytes." + fix);
    }
    return new Entry(name, dtype, shape, (int) numel, begin, end);
  }

  private static JsonNode required(JsonNode node, String field, String tensor, String source, String fix) {
    JsonNode value = node.get(field);
    if (value == null) {
      throw new WeightFileException(source, tensor + " has no '" + field + "' in the header." + fix);
    }
    return value;
  }

  private static long[] integers(JsonNode array, String field, String tensor, String source, String fix) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode item = array.get(i);
      if (!item.isIntegralNumber() || !item.canConvertToLong()) {
        throw new WeightFileException(source, tensor + " has " + field + " " + shorten(array.toString())
            + ": item " + i + " is " + describe(item) + ", not a 64-bit integer." + fix);
      }
      out[i] = item.longValue();
    }
    return out;
  }

  private static Dtype dtype(String name, String tensor, String source) {
    for (Dtype dtype : Dtype.values()) {
      if (dtype.name().equals(name)) {
        return dtype;
      }
    }
    String kind = OTHER_DTYPES.contains(name) ? "dtype " : "unknown dtype ";
    throw new WeightFileException(source, tensor + " has " + kind + quote(name) + ", which is not read"
        + " (supported: F32, F64, F16, BF16 as float32, and I64). Convert the tensors to floating point before saving, for example"
        + " {k: v.float() for k, v in state_dict.items()}, or leave this tensor out.");
  }

  /** Checks that every tensor lies inside the data buffer and that together they cover it exactly. */
  private static void checkLayout(List<Entry> entries, long dataLength, long dataStart, String source) {
    for (Entry entry : entries) {
      if (entry.end > dataLength) {
        throw new WeightFileException(source, "tensor " + quote(entry.name) + " has data_offsets " + entry.offsets()
            + ", past the end of the data buffer, which holds " + dataLength + " bytes (file bytes " + dataStart
            + " to " + (dataStart + dataLength) + "): the file is truncated or its header is wrong. Copy or save the"
            + " file again.");
      }
    }
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long covered = 0;
    Entry previous = null;
    for (Entry entry : byOffset) {
      if (entry.begin > covered) {
        throw new WeightFileException(source, "bytes " + covered + " to " + entry.begin + " of the data buffer"
            + " belong to no tensor (" + (previous == null ? "" : "between " + quote(previous.name) + " and ")
            + "before " + quote(entry.name) + " at data_offsets " + entry.offsets() + "): the header does not"
            + " describe the data. The file is damaged; save it again.");
      }
      if (entry.begin < covered) {
        throw new WeightFileException(source, "tensor " + quote(entry.name) + " at data_offsets " + entry.offsets()
            + " overlaps tensor " + quote(previous.name) + " at data_offsets " + previous.offsets()
            + ": the header is damaged. Save the file again.");
      }
      covered = entry.end;
      previous = entry;
    }
    if (covered < dataLength) {
      throw new WeightFileException(source, "bytes " + covered + " to " + dataLength + " of the data buffer (file"
          + " bytes " + (dataStart + covered) + " on) belong to no tensor: the header does not describe the data."
          + " The file is damaged; save it again.");
    }
  }

  private static Tensor decode(Entry entry, byte[] data) {
    ByteBuffer bytes = ByteBuffer.wrap(data, (int) entry.begin, (int) (entry.end - entry.begin))
        .slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    if (entry.dtype == Dtype.I64) {
      long[] longs = new long[entry.numel];
      bytes.asLongBuffer().get(longs);
      return Tensor.wrapLongs(longs, entry.shape);
    }
    return Tensor.wrap(entry.dtype.toFloats(bytes, entry.numel), entry.shape);
  }

  private static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "empty";
    }
    String type = switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> "a " + node.getNodeType().name().toLowerCase(Locale.ROOT);
    };
    return node.isNull() ? type : type + " (" + shorten(node.toString()) + ")";
  }

  static String quote(String name) {
    return "'" + shorten(name) + "'";
  }

  static String shorten(String text) {
    return text == null || text.length() <= 120 ? text : text.substring(0, 117) + "...";
  }
}
