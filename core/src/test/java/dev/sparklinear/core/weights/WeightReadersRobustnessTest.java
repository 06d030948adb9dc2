package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damages the real files in many random ways and checks the contract: reading either succeeds or throws {@link
 * WeightFileException}, never an index, buffer, number-format, JSON or memory error.
 */
class WeightReadersRobustnessTest {
  private static final int MUTATIONS = 400;
  private static final Pattern NUMBER = Pattern.compile("-?\\d+");
  private static final String[] NUMBERS = {
      "0", "1", "-1", "3", "7", "48", "204", "65535", "2147483647", "2147483648", "-2147483649",
      "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e3", "1.5", "[]", "\"\""};
  private static final String[] TOKENS = {
      "", " ", ",", "{", "}", "[", "]", "(", ")", ":", "'", "\"", "\\", "null", "True", "None", "|O", "<i8", ">f4",
      "F16", "BF16", "I64", "__metadata__", "\u00e9", "\u0000"};

  @ParameterizedTest
  @ValueSource(strings = {
      "model_f32.safetensors", "linear_f64.safetensors", "linear_f16.safetensors", "linear_bf16.safetensors"})
  void damagedSafetensorsFilesFailOnlyWithWeightFileException(String name) {
    byte[] original = Fixtures.bytes(name);
    int headerEnd = 8 + (int) ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong();
    Outcomes outcomes = fuzz(name, original, headerEnd, 8, bytes -> SafetensorsReader.read(bytes, name),
        (header, data) -> SafetensorsReaderTest.file(header, data));

    assertThat(outcomes.unexpected).isEmpty();
    assertThat(outcomes.rejected).isGreaterThan(MUTATIONS / 2);
    assertThat(outcomes.read).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "fc_weight_f4.npy", "fc_weight_be_f8.npy", "fc_weight_f2.npy", "cube_fortran.npy", "fc_weight_v2.npy",
      "fc_weight_v3.npy", "scalar_f4.npy", "empty_f4.npy", "object.npy"})
  void damagedNpyFilesFailOnlyWithWeightFileException(String name) {
    byte[] original = Fixtures.bytes(name);
    int major = original[6];
    int headerStart = major == 1 ? 10 : 12;
    ByteBuffer lengths = ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN);
    int headerEnd = headerStart + (major == 1 ? lengths.getShort(8) & 0xffff : lengths.getInt(8));
    Outcomes outcomes = fuzz(name, original, headerEnd, headerStart, bytes -> NpyReader.read(bytes, name),
        (header, data) -> NpyReaderTest.npy(major, header.getBytes(StandardCharsets.UTF_8), data));

    assertThat(outcomes.unexpected).isEmpty();
    assertThat(outcomes.rejected).isGreaterThan(MUTATIONS / 2);
  }

  /** What the reader did with the damaged copies. */
  private static final class Outcomes {
    int read;
    int rejected;
    final List<String> unexpected = new ArrayList<>();
  }

  private interface Rebuild {
    byte[] file(String header, byte[] data);
  }

  private static Outcomes fuzz(
      String name, byte[] original, int headerEnd, int headerStart, Consumer<byte[]> reader, Rebuild rebuild) {
    Random random = new Random(name.hashCode() * 31L + 20241127);
    String header = new String(original, headerStart, headerEnd - headerStart, StandardCharsets.ISO_8859_1);
    byte[] data = Arrays.copyOfRange(original, headerEnd, original.length);
    Outcomes outcomes = new Outcomes();
    for (int i = 0; i < MUTATIONS; i++) {
      String kind;
      byte[] damaged;
      switch (i % 5) {
        case 0 -> {
          kind = "random bytes";
          damaged = original.clone();
          for (int n = 1 + random.nextInt(4); n > 0; n--) {
            damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
          }
        }
        case 1 -> {
          kind = "header bytes";
          damaged = original.clone();
          for (int n = 1 + random.nextInt(3); n > 0; n--) {
            damaged[random.nextInt(headerEnd)] = (byte) random.nextInt(256);
          }
        }
        case 2 -> {
          kind = "truncation or extension";
          int length = random.nextInt(original.length + 16);
          damaged = Arrays.copyOf(original, length);
        }
        case 3 -> {
          kind = "header number";
          damaged = rebuild.file(replaceNumber(header, random), data(data, random));
        }
        default -> {
          kind = "header token";
          int at = random.nextInt(header.length() + 1);
          int cut = Math.min(header.length(), at + random.nextInt(4));
          String token = TOKENS[random.nextInt(TOKENS.length)];
          damaged = rebuild.file(header.substring(0, at) + token + header.substring(cut), data(data, random));
        }
      }
      try {
        reader.accept(damaged);
        outcomes.read++;
      } catch (WeightFileException e) {
        outcomes.rejected++;
        assertThat(e.getMessage()).startsWith("Cannot read weights from " + name + ": ");
      } catch (RuntimeException | Error e) {
        outcomes.unexpected.add("mutation " + i + " (" + kind + "): " + e);
      }
    }
    return outcomes;
  }

  private static String replaceNumber(String header, Random random) {
    Matcher matcher = NUMBER.matcher(header);
    List<int[]> spans = new ArrayList<>();
    while (matcher.find()) {
      spans.add(new int[] {matcher.start(), matcher.end()});
    }
    if (spans.isEmpty()) {
      return header;
    }
    int[] span = spans.get(random.nextInt(spans.size()));
    String number = random.nextBoolean()
        ? NUMBERS[random.nextInt(NUMBERS.length)]
        : Long.toString(random.nextLong() >> random.nextInt(64));
    return header.substring(0, span[0]) + number + header.substring(span[1]);
  }

  /** The data, sometimes a little shorter or longer, so that changed sizes can also match. */
  private static byte[] data(byte[] data, Random random) {
    int change = random.nextInt(3) == 0 ? random.nextInt(17) - 8 : 0;
    return Arrays.copyOf(data, Math.max(0, data.length + change));
  }
}
