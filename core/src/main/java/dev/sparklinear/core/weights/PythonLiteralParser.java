package dev.sparklinear.core.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the Python literal of a {@code .npy} header, {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3,
 * 4), }}, without evaluating anything. It knows exactly what such headers hold: a dict with string keys, and strings,
 * {@code True}, {@code False}, {@code None}, integers, tuples and lists as values. A string becomes a {@link String},
 * a bool a {@link Boolean}, {@code None} {@link #NONE}, an integer a {@link Long}, a tuple a {@link Tuple} and a list a
 * {@link List}.
 */
final class PythonLiteralParser {
  /** Python's {@code None}. */
  static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  /** A Python tuple. */
  record Tuple(List<Object> items) {
    @Override
    public String toString() {
      return items.size() == 1 ? "(" + items.get(0) + ",)" : items.toString().replace('[', '(').replace(']', ')');
    }
  }

  /** The constants a header may hold; none is a prefix of another, so the order they are tried in does not matter. */
  private static final Map<String, Object> KEYWORDS =
      Map.of("True", Boolean.TRUE, "False", Boolean.FALSE, "None", NONE);

  /** Deep enough for any real header (a structured dtype nests a few levels), shallow enough for the stack. */
  private static final int MAX_DEPTH = 32;

  private final String text;
  private final long headerStart;
  private final String source;
  private int pos;

  PythonLiteralParser(String text, long headerStart, String source) {
    this.text = text;
    this.headerStart = headerStart;
    this.source = source;
  }

  /** Parses the whole text as one dict literal, followed by nothing but whitespace (NumPy pads with spaces). */
  Map<String, Object> parseDict() {
    skipWhitespace();
    expect('{');
    Map<String, Object> dict = new LinkedHashMap<>();
    skipWhitespace();
    while (peek() != '}') {
      int keyAt = pos;
      if (peek() != '\'' && peek() != '"') {
        throw error("expected a quoted key or '}'");
      }
      String key = parseString();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      Object value = parseValue(1);
      if (dict.put(key, value) != null) {
        pos = keyAt;
        throw error("the key '" + SafetensorsReader.shorten(key) + "' appears twice");
      }
      skipWhitespace();
      if (peek() == ',') {
        pos++;
        skipWhitespace();
      } else if (peek() != '}') {
        throw error("expected ',' or '}'");
      }
    }
    pos++;
    skipWhitespace();
    if (pos < text.length()) {
      throw error("expected the end of the header after '}'");
    }
    return dict;
  }

  private Object parseValue(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("values nested more than " + MAX_DEPTH + " deep");
    }
    char c = peek();
    if (c == '\'' || c == '"') {
      return parseString();
    }
    if (c == '(' || c == '[') {
      return parseSequence(depth);
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      return parseInteger();
    }
    for (Map.Entry<String, Object> keyword : KEYWORDS.entrySet()) {
      if (text.startsWith(keyword.getKey(), pos)) {
        pos += keyword.getKey().length();
        return keyword.getValue();
      }
    }
    throw error("expected a string, True, False, None, an integer, a tuple or a list");
  }

  /** A tuple or list; as in Python, {@code (x)} without a comma is just {@code x}. */
  private Object parseSequence(int depth) {
    char open = text.charAt(pos++);
    char close = open == '(' ? ')' : ']';
    List<Object> items = new ArrayList<>();
    boolean comma = false;
    skipWhitespace();
    while (peek() != close) {
      items.add(parseValue(depth + 1));
      skipWhitespace();
      if (peek() == ',') {
        comma = true;
        pos++;
        skipWhitespace();
      } else if (peek() != close) {
        throw error("expected ',' or '" + close + "'");
      }
    }
    pos++;
    if (open == '[') {
      return items;
    }
    return items.size() == 1 && !comma ? items.get(0) : new Tuple(items);
  }

  private String parseString() {
    char quote = text.charAt(pos++);
    int start = pos;
    while (pos < text.length() && text.charAt(pos) != quote) {
      char c = text.charAt(pos);
      if (c == '\\' || c == '\n') {
        throw error(c == '\\' ? "escapes in strings are not read" : "a string ends at the end of the line");
      }
      pos++;
    }
    if (pos >= text.length()) {
      pos = start - 1;
      throw error("a string is never closed");
    }
    return text.substring(start, pos++);
  }

  private Long parseInteger() {
    int start = pos;
    if (peek() == '-' || peek() == '+') {
      pos++;
    }
    int digits = pos;
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
      pos++;
    }
    if (pos == digits) {
      throw error("expected digits");
    }
    String number = text.substring(start, pos);
    if (peek() == 'L') {
      pos++; // Python 2 wrote long integers as 3L.
    }
    try {
      return Long.parseLong(number);
    } catch (NumberFormatException e) {
      pos = start;
      throw error("the integer " + SafetensorsReader.shorten(number) + " does not fit in 64 bits");
    }
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipWhitespace() {
    while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
  }

  private WeightFileException error(String problem) {
    String found = pos < text.length() ? "'" + text.charAt(pos) + "'" : "the end of the header";
    return new WeightFileException(source, "the header at byte " + headerStart + " is not a valid .npy header"
        + " literal: " + problem + " at character " + pos + ", found " + found + ". Header: "
        + SafetensorsReader.shorten(text.strip()) + ". The file is damaged or was not written by numpy.save; save it"
        + " again.");
  }
}
