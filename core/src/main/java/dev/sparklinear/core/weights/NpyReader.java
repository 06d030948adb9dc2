package dev.sparklinear.core.weights;

import dev.sparklinear.core.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one NumPy {@code .npy} array, as written by {@code np.save(path, array)}, into a row-major float32
 * {@link Tensor}.
 *
 * <p>Versions 1.0, 2.0 and 3.0 of the format are read: the magic {@code \x93NUMPY}, the version, a little-endian
 * header length (2 bytes in 1.0, 4 bytes after), then a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }} and the raw data. The literal is parsed by a small
 * strict parser, never evaluated. Float arrays of 2, 4 or 8 bytes in either byte order ({@code <f4}, {@code >f8},
 * {@code <f2}, ...) and of any rank, a 0-d array giving a tensor of shape {@code []}, are read; Fortran-order data is
 * transposed to row-major. Object arrays ({@code |O}) would need unpickling and are refused, as are integer, complex,
 * string and structured arrays; those, and every malformed or truncated file, are a {@link WeightFileException}.
 *
 * <p>Limits: a header of at most {@value #MAX_HEADER_BYTES} bytes and a file of at most {@value #MAX_FILE_BYTES}
 * bytes, just under 2 GiB. The byte orders {@code =} (native) and {@code |} (not applicable) mean this JVM's native
 * order, as they do for NumPy reading the file; NumPy itself always writes {@code <} or {@code >} for floats.
 *
 * <pre>{@code
 * Tensor weight = NpyReader.read(Path.of("fc_weight.npy"));   // shape [3, 4]
 * }</pre>
 */
public final class NpyReader {
  /** The largest header accepted, in bytes; NumPy's own default limit is 10,000. */
  public static final int MAX_HEADER_BYTES = 1 << 20;
  /** The largest file accepted, in bytes: just under 2 GiB, the largest array a JVM allocates. */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final String FIX = " The file is damaged or was not written by numpy.save; save it again.";

  private NpyReader() {}

  /** What the header says: the element type, its byte order, the layout and the shape. */
  private record Header(SafetensorsReader.Dtype dtype, ByteOrder order, boolean fortranOrder, int[] shape, int numel) {}

  /** Reads the file at {@code path}, named by the path in messages. */
  public static Tensor read(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return read(in, path.toString());
    }
  }

  /** Reads a whole file held in memory; {@code source} names it in messages. */
  public static Tensor read(byte[] bytes, String source) {
    try {
      return read(new ByteArrayInputStream(bytes), source);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // A ByteArrayInputStream does not fail.
    }
  }

  /**
   * Reads one whole {@code .npy} file from {@code in}, up to its end, and checks that nothing follows the data. The
   * caller opens and closes the stream.
   *
   * @param source the name of the file in messages, usually its path
   * @throws WeightFileException when the content is not a valid {@code .npy} file of floats
   * @throws IOException when reading the stream fails
   */
  public static Tensor read(InputStream in, String source) throws IOException {
    WeightInput input = new WeightInput(in, source, MAX_FILE_BYTES); // Refuses a null stream or source.
    byte[] start = input.readUpTo(MAGIC.length + 2, "the magic string and version");
    if (start.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(start, MAGIC.length), MAGIC)) {
      throw new WeightFileException(source, "the file does not start with the .npy magic string \\x93NUMPY (it starts"
          + " with " + hex(start) + "): it is not a NumPy .npy file. Save the array with numpy.save.");
    }
    if (start.length < MAGIC.length + 2) {
      throw new WeightFileException(source, "the file ends at byte " + start.length + ", inside the format version:"
          + " the file is truncated. Copy it again.");
    }
    int major = start[6] & 0xff;
    int minor = start[7] & 0xff;
    if (minor != 0 || major < 1 || major > 3) {
      throw new WeightFileException(source, "the .npy format version is " + major + "." + minor + " (bytes 6 and 7);"
          + " versions 1.0, 2.0 and 3.0 are read. Save the file again with numpy.save, or check that it is a .npy file.");
    }
    int lengthBytes = major == 1 ? 2 : 4;
    ByteBuffer length = ByteBuffer.wrap(input.readFully(lengthBytes, "the header length")).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = major == 1 ? length.getShort() & 0xffff : length.getInt() & 0xffffffffL;
    if (headerLength > MAX_HEADER_BYTES) {
      throw new WeightFileException(source, "the header length is " + headerLength + " bytes, more than the limit of "
          + MAX_HEADER_BYTES + ": the file is damaged or holds a structured array, which is not read.");
    }
    long headerStart = input.position();
    String text = headerText(input.readFully(headerLength, "the header"), major, headerStart, source);
    Header header = parseHeader(text, headerStart, source);

    long dataStart = input.position();
    long needed = (long) header.numel * header.dtype.size;
    byte[] data = input.readUpTo(needed, "the array data");
    if (data.length < needed) {
      throw new WeightFileException(source, "the array data from byte " + dataStart + " holds " + data.length
          + " bytes, but shape " + Arrays.toString(header.shape) + " of " + header.dtype.size + "-byte floats needs "
          + needed + ": the file is truncated. Copy it again.");
    }
    input.expectEnd("the array data");
    return Tensor.wrap(values(header, data), header.shape);
  }

  private static String headerText(byte[] bytes, int major, long headerStart, String source) {
    if (major < 3) {
      return new String(bytes, StandardCharsets.ISO_8859_1); // Versions 1.0 and 2.0 store the header in latin-1.
    }
    try {
      return WeightInput.strictUtf8(bytes);
    } catch (CharacterCodingException e) {
      throw new WeightFileException(source, "the version 3.0 header at byte " + headerStart + " is not valid UTF-8."
          + FIX, e);
    }
  }

  private static Header parseHeader(String text, long headerStart, String source) {
    Map<String, Object> dict = new PythonLiteralParser(text, headerStart, source).parseDict();
    if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
      throw new WeightFileException(source, "the header at byte " + headerStart + " has keys " + dict.keySet()
          + "; a .npy header has exactly 'descr', 'fortran_order' and 'shape'." + FIX);
    }
    if (!(dict.get("fortran_order") instanceof Boolean fortranOrder)) {
      throw new WeightFileException(source, "the header's 'fortran_order' is " + dict.get("fortran_order")
          + ", not True or False." + FIX);
    }
    if (!(dict.get("shape") instanceof PythonLiteralParser.Tuple tuple)
        || !tuple.items().stream().allMatch(Long.class::isInstance)) {
      throw new WeightFileException(source, "the header's 'shape' is " + dict.get("shape")
          + ", not a tuple of integers." + FIX);
    }
    List<Object> dims = tuple.items();
    Object descr = dict.get("descr");
    if (!(descr instanceof String)) {
      throw new WeightFileException(source, "the header's 'descr' is " + descr + ": structured arrays are not read."
          + " Save a plain float array, for example numpy.save(path, array.astype(numpy.float32)).");
    }
    int[] shape = new int[dims.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      long dim = (Long) dims.get(i);
      if (dim < 0 || dim > Integer.MAX_VALUE) {
        throw new WeightFileException(source, "the header's shape " + dims + " has dimension " + dim
            + " (dimensions must be >= 0 and fit in an int)." + FIX);
      }
      shape[i] = (int) dim;
      numel = dim != 0 && numel > MAX_FILE_BYTES / dim ? MAX_FILE_BYTES + 1 : numel * dim;
    }
    if (numel > MAX_FILE_BYTES) {
      throw new WeightFileException(source, "the header's shape " + dims + " has more values than one Java array"
          + " holds. Split the array into smaller files.");
    }
    return dtype((String) descr, fortranOrder, shape, (int) numel, source);
  }

  private static Header dtype(String descr, boolean fortranOrder, int[] shape, int numel, String source) {
    String body = descr;
    ByteOrder order = ByteOrder.nativeOrder();
    if (!body.isEmpty() && "<>=|".indexOf(body.charAt(0)) >= 0) {
      order = body.charAt(0) == '<' ? ByteOrder.LITTLE_ENDIAN
          : body.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.nativeOrder();
      body = body.substring(1);
    }
    if (body.startsWith("O")) {
      throw new WeightFileException(source, "the array has dtype '" + descr + "' (Python objects): reading it would"
          + " mean unpickling, which is never done because a pickle can run code. Save a float array, for example"
          + " numpy.save(path, numpy.asarray(values, dtype=numpy.float32)).");
    }
    SafetensorsReader.Dtype dtype = switch (body) {
      case "f2" -> SafetensorsReader.Dtype.F16;
      case "f4" -> SafetensorsReader.Dtype.F32;
      case "f8" -> SafetensorsReader.Dtype.F64;
      default -> null;
    };
    if (dtype == null) {
      throw new WeightFileException(source, "the array has dtype '" + SafetensorsReader.shorten(descr) + "', which is"
          + " not read (supported: float16, float32 and float64, such as '<f4' or '>f8'). Convert it before saving,"
          + " for example numpy.save(path, array.astype(numpy.float32)).");
    }
    return new Header(dtype, order, fortranOrder, shape, numel);
  }

  private static float[] values(Header header, byte[] data) {
    float[] fileOrder = header.dtype.toFloats(ByteBuffer.wrap(data).order(header.order), header.numel);
    return header.fortranOrder && header.shape.length > 1 ? toRowMajor(fileOrder, header.shape) : fileOrder;
  }

  /** Reorders column-major values (first index fastest) into row-major order (last index fastest). */
  private static float[] toRowMajor(float[] columnMajor, int[] shape) {
    int rank = shape.length;
    long[] rowMajorStride = new long[rank];
    long stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
      rowMajorStride[d] = stride;
      stride *= shape[d];
    }
    float[] out = new float[columnMajor.length];
    int[] index = new int[rank];
    long target = 0;
    for (int i = 0; i < columnMajor.length; i++) {
      out[(int) target] = columnMajor[i];
      for (int d = 0; d < rank; d++) {
        index[d]++;
        target += rowMajorStride[d];
        if (index[d] < shape[d]) {
          break;
        }
        target -= rowMajorStride[d] * shape[d];
        index[d] = 0;
      }
    }
    return out;
  }

  private static String hex(byte[] bytes) {
    return bytes.length == 0 ? "nothing (the file is empty)"
        : "0x" + HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, MAGIC.length));
  }
}
