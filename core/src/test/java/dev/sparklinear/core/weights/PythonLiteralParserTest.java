package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PythonLiteralParserTest {
  private static Map<String, Object> parse(String text) {
    return new PythonLiteralParser(text, 10, "x.npy").parseDict();
  }

  @Test
  void parsesTheHeaderNumpyWrites() {
    Map<String, Object> dict = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n");

    assertThat(dict).containsExactly(
        Map.entry("descr", "<f4"),
        Map.entry("fortran_order", false),
        Map.entry("shape", new PythonLiteralParser.Tuple(List.of(3L, 4L))));
  }

  @Test
  void parsesEmptyAndOneItemTuplesAsPythonDoes() {
    assertThat(parse("{'a': (), 'b': (5,), 'c': (5)}"))
        .containsEntry("a", new PythonLiteralParser.Tuple(List.of()))
        .containsEntry("b", new PythonLiteralParser.Tuple(List.of(5L)))
        .containsEntry("c", 5L);
  }

  @Test
  void acceptsDoubleQuotesAndPython2Longs() {
    assertThat(parse("{\"shape\": (3L, 4L), \"x\": True, \"y\": None}"))
        .containsEntry("shape", new PythonLiteralParser.Tuple(List.of(3L, 4L)))
        .containsEntry("x", true)
        .containsEntry("y", PythonLiteralParser.NONE);
  }

  @Test
  void rejectsCodeInsteadOfALiteral() {
    assertThatThrownBy(() -> parse("{'descr': __import__('os').system('true')}"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("expected a string, True, False, None, an integer, a tuple or a list at character 10,"
            + " found '_'");
  }

  @Test
  void rejectsDuplicateKeys() {
    assertThatThrownBy(() -> parse("{'a': 1, 'a': 2}"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the key 'a' appears twice at character 9");
  }

  @Test
  void rejectsTextAfterTheDict() {
    assertThatThrownBy(() -> parse("{'a': 1} x"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("expected the end of the header after '}' at character 9, found 'x'");
  }

  @Test
  void rejectsAnUnclosedDict() {
    assertThatThrownBy(() -> parse("{'a': (1, 2"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("expected ',' or ')' at character 11, found the end of the header");
  }

  @Test
  void rejectsDeepNestingWithoutOverflowingTheStack() {
    assertThatThrownBy(() -> parse("{'a': " + "(".repeat(100_000) + "}"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("values nested more than 32 deep");
  }

  @Test
  void rejectsAnIntegerBeyond64Bits() {
    assertThatThrownBy(() -> parse("{'shape': (99999999999999999999,)}"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("the integer 99999999999999999999 does not fit in 64 bits");
  }
}
