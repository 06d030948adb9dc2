package dev.sparklinear.core.nn;

import java.math.BigDecimal;

/** Values written as Python writes them in PyTorch's reprs ({@code True}, {@code 1e-05}, {@code 0.1}). */
final class TorchRepr {
  private TorchRepr() {}

  /** {@code True} or {@code False}. */
  static String bool(boolean value) {
    return value ? "True" : "False";
  }

  /**
   * Python's {@code repr(float)}: the shortest digits that read back as {@code value}, in positional notation when the
   * decimal exponent is from -4 to 15 ({@code 0.1}, {@code 0.0001}, {@code 2.0}) and in scientific notation
   * otherwise, with at least two exponent digits ({@code 1e-05}, {@code 1.5e+16}).
   */
  static String number(double value) {
    if (Double.isNaN(value)) {
      return "nan";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    if (value == 0) {
      return Double.doubleToRawLongBits(value) == 0 ? "0.0" : "-0.0";
    }
    // Double.toString gives the shortest round-trip digits; BigDecimal takes them apart.
    BigDecimal decimal = new BigDecimal(Double.toString(value)).stripTrailingZeros();
    String digits = decimal.unscaledValue().abs().toString();
    int exponent = digits.length() - decimal.scale() - 1;
    String sign = value < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = decimal.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
  }
}
