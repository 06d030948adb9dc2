package dev.sparklinear.core.weights;

/**
 * Widening of 16-bit floats to float32. Java 17 has no {@code Float.float16ToFloat} (it came in Java 20), so IEEE
 * binary16 is decoded by hand; bfloat16 is simply the upper half of a float32.
 */
final class HalfFloats {
  private HalfFloats() {}

  /** The float32 equal to the IEEE 754 binary16 value with these bits (every half is exactly representable). */
  static float halfToFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      // Infinity or NaN; the NaN payload moves to the top of the float32 mantissa as numpy and torch move it.
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Zero or subnormal: mantissa * 2^-24, exact in float32.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    // Rebias the exponent from 15 to 127.
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** The float32 whose upper 16 bits are {@code bfloat16}, the lower 16 zero. */
  static float bfloat16ToFloat(short bfloat16) {
    return Float.intBitsToFloat((bfloat16 & 0xffff) << 16);
  }
}
