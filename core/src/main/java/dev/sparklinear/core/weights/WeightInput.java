package dev.sparklinear.core.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads a weight file from a stream in the pieces its header announces, so that a stream is never read past what the
 * header promised and a lying header on a short stream costs memory in proportion to the bytes that really arrive, not to
 * the size it claims.
 */
final class WeightInput {
  private static final int INITIAL_CHUNK = 1 << 20;

  private final InputStream in;
  private final String source;
  private final long limit;
  private long position;

  WeightInput(InputStream in, String source, long limit) {
    this.in = Objects.requireNonNull(in, "in");
    this.source = Objects.requireNonNull(source, "source");
    this.limit = limit;
  }

  /**
   * Decodes {@code bytes} as UTF-8, refusing malformed input: a new decoder reports errors, where
   * {@code new String(bytes, UTF_8)} would silently put U+FFFD in their place.
   */
  static String strictUtf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
  }

  /** The number of bytes read so far, which is the file offset of the next byte. */
  long position() {
    return position;
  }

  /**
   * Reads exactly {@code count} bytes holding {@code what}.
   *
   * @throws WeightFileException when the stream ends first or the file would pass the size limit
   */
  byte[] readFully(long count, String what) throws IOException {
    long start = position;
    byte[] bytes = readUpTo(count, what);
    if (bytes.length < count) {
      throw new WeightFileException(source, "the file ends at byte " + position + ", inside " + what + " (bytes "
          + start + " to " + (start + count) + "): the file is truncated. Copy it again.");
    }
    return bytes;
  }

  /**
   * Reads {@code count} bytes holding {@code what}, or fewer if the stream ends first: the caller reports the
   * shortfall in its own terms.
   *
   * @throws WeightFileException when the file would pass the size limit
   */
  byte[] readUpTo(long count, String what) throws IOException {
    if (count < 0 || count > limit - position) {
      throw new WeightFileException(source, what + " at byte " + position + " is said to be " + count
          + " bytes long, which takes the file past the limit of " + limit
          + " bytes. The header is damaged, or the weights must be split into smaller files.");
    }
    // Grow with what actually arrives, so that a huge count on a short stream allocates little.
    byte[] buffer = new byte[(int) Math.min(count, INITIAL_CHUNK)];
    int filled = 0;
    while (filled < count) {
      if (filled == buffer.length) {
        buffer = Arrays.copyOf(buffer, (int) Math.min(count, 2L * buffer.length));
      }
      int read = in.read(buffer, filled, buffer.length - filled);
      if (read < 0) {
        break;
      }
      filled += read;
    }
    position += filled;
    return filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled);
  }

  /** Checks that nothing follows the last byte the header accounted for. */
  void expectEnd(String lastPart) throws IOException {
    if (in.read() != -1) {
      throw new WeightFileException(source, "the file goes on after " + lastPart + ", which ends at byte " + position
          + ": the header does not describe the whole file. The file is damaged or not of this format.");
    }
  }
}
