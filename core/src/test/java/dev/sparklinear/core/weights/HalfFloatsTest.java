package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  @Test
  void everyFiniteHalfWidensToItsExactValue() {
    for (int bits = 0; bits < 0x10000; bits++) {
      int exponent = (bits >>> 10) & 0x1f;
      if (exponent == 0x1f) {
        continue;
      }
      int mantissa = bits & 0x3ff;
      // IEEE 754 binary16, straight from the definition.
      double magnitude = exponent == 0
          ? Math.scalb(mantissa / 1024.0, -14)
          : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
      double expected = (bits & 0x8000) != 0 ? -magnitude : magnitude;
      float actual = HalfFloats.halfToFloat((short) bits);
      assertThat(actual).as("half 0x%04x", bits).isEqualTo((float) expected);
      assertThat(Float.floatToRawIntBits(actual) >>> 31).as("sign of half 0x%04x", bits).isEqualTo(bits >>> 15);
    }
  }

  @Test
  void infinitiesAndNaNsKeepTheirKind() {
    assertThat(HalfFloats.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(HalfFloats.halfToFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(HalfFloats.halfToFloat((short) 0x7e00)).isNaN();
    assertThat(HalfFloats.halfToFloat((short) 0xfc01)).isNaN();
  }

  @Test
  void knownHalves() {
    assertThat(HalfFloats.halfToFloat((short) 0x3c00)).isEqualTo(1f);
    assertThat(HalfFloats.halfToFloat((short) 0xc000)).isEqualTo(-2f);
    assertThat(HalfFloats.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(HalfFloats.halfToFloat((short) 0x0001)).isEqualTo(5.9604645e-8f);
  }

  @Test
  void bfloat16IsTheUpperHalfOfAFloat() {
    assertThat(HalfFloats.bfloat16ToFloat((short) 0x3f80)).isEqualTo(1f);
    assertThat(HalfFloats.bfloat16ToFloat((short) 0xc040)).isEqualTo(-3f);
    assertThat(HalfFloats.bfloat16ToFloat((short) 0x3e20)).isEqualTo(0.15625f);
    assertThat(HalfFloats.bfloat16ToFloat((short) 0xff80)).isEqualTo(Float.NEGATIVE_INFINITY);
  }
}
