/*
 * Ported to Java from fdlibm's s_erf.c, which carries this notice:
 *
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunPro, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */
package dev.sparklinear.core.nn;

/**
 * The error function and its complement in double precision, for GELU ({@code Math} has neither).
 *
 * <p>A port of Sun's fdlibm {@code erf} and {@code erfc} (the algorithm of FreeBSD's and most C libraries'
 * {@code s_erf.c}, coefficients unchanged; Sun's notice is at the top of this file). By {@code |x|}:
 *
 * <ul>
 *   <li>{@code [0, 0.84375)}: {@code erf(x) = x + x R(x^2)}, {@code R} a rational function of degree 4/5 fitted to
 *       {@code (erf(x) - x) / x}; {@code erfc = 1 - erf} there loses no digits, and above 1/4 is summed as
 *       {@code 0.5 - (x R + (x - 0.5))};
 *   <li>{@code [0.84375, 1.25)}: {@code erf(x) = erx + P(s)/Q(s)} with {@code s = |x| - 1} and {@code erx} the
 *       27-bit constant nearest {@code erf(1)}, so that {@code 1 - erx} is exact;
 *   <li>{@code [1.25, 28)}: {@code erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2)/S(1/x^2)) / x}, with one pair of
 *       rational functions on {@code [1.25, 1/0.35)} and another above. The rounding of {@code x^2} would be magnified
 *       by {@code exp}, so {@code x} is split as {@code z + (x - z)} with {@code z} its upper 21 significant bits:
 *       {@code -z^2 - 0.5625} is exact, and {@code exp} of it is multiplied by {@code exp((z - x)(z + x) + R/S)};
 *   <li>{@code erf} is {@code +-1} from 6 on, {@code erfc} is 0 from 28 on and 2 below -6.
 * </ul>
 *
 * <p>Error, measured against values exact to 21 digits (mpmath) at about 100000 points around every branch point and
 * across each branch, both signs: {@code erf} within 0.86 ulp everywhere; {@code erfc} within 0.84 ulp for
 * {@code x < 1/4} and within 2.6 ulps above, where the result is a small difference of the terms the algorithm sums
 * (fdlibm's comment claims below 1 ulp for both; glibc's {@code erfc}, the same algorithm, measured 3.1 ulps at the
 * same points). Where {@code erfc} is subnormal ({@code x} above about 26.55) the error counts in units of the
 * subnormal spacing. {@code ErfTest} holds the bounds at 1, 1 and 3 ulps. Cost: a rational function and at most two
 * {@code exp}, no loops.
 */
final class Erf {
  /** The float nearest {@code erf(1)}: {@code erf(1 + s) = ERX + P(s)/Q(s)} near 1. */
  private static final double ERX = 8.45062911510467529297e-01;
  /** {@code 2/sqrt(pi) - 1}, for {@code erf(x) = x + EFX x} at tiny {@code x}. */
  private static final double EFX = 1.28379167095512586316e-01;
  /** {@code 8 EFX}: scaled up so that {@code EFX x} does not lose bits for subnormal {@code x}. */
  private static final double EFX8 = 1.02703333676410069053e+00;

  // erf on [0, 0.84375): (erf(x) - x) / x = PP(x^2) / QQ(x^2)
  private static final double PP0 = 1.28379167095512558561e-01;
  private static final double PP1 = -3.25042107247001499370e-01;
  private static final double PP2 = -2.84817495755985104766e-02;
  private static final double PP3 = -5.77027029648944159157e-03;
  private static final double PP4 = -2.37630166566501626084e-05;
  private static final double QQ1 = 3.97917223959155352819e-01;
  private static final double QQ2 = 6.50222499887672944485e-02;
  private static final double QQ3 = 5.08130628187576562776e-03;
  private static final double QQ4 = 1.32494738004321644526e-04;
  private static final double QQ5 = -3.96022827877536812320e-06;

  // erf on [0.84375, 1.25): erf(1 + s) - ERX = PA(s) / QA(s)
  private static final double PA0 = -2.36211856075265944077e-03;
  private static final double PA1 = 4.14856118683748331666e-01;
  private static final double PA2 = -3.72207876035701323847e-01;
  private static final double PA3 = 3.18346619901161753674e-01;
  private static final double PA4 = -1.10894694282396677476e-01;
  private static final double PA5 = 3.54783043256182359371e-02;
  private static final double PA6 = -2.16637559486879084300e-03;
  private static final double QA1 = 1.06420880400844228286e-01;
  private static final double QA2 = 5.40397917702171048937e-01;
  private static final double QA3 = 7.18286544141962662868e-02;
  private static final double QA4 = 1.26171219808761642112e-01;
  private static final double QA5 = 1.36370839120290507362e-02;
  private static final double QA6 = 1.19844998467991074170e-02;

  // erfc on [1.25, 1/0.35): log(x erfc(x)) + x^2 + 0.5625 = RA(1/x^2) / SA(1/x^2)
  private static final double RA0 = -9.86494403484714822705e-03;
  private static final double RA1 = -6.93858572707181764372e-01;
  private static final double RA2 = -1.05586262253232909814e+01;
  private static final double RA3 = -6.23753324503260060396e+01;
  private static final double RA4 = -1.62396669462573470355e+02;
  private static final double RA5 = -1.84605092906711035994e+02;
  private static final double RA6 = -8.12874355063065934246e+01;
  private static final double RA7 = -9.81432934416914548592e+00;
  private static final double SA1 = 1.96512716674392571292e+01;
  private static final double SA2 = 1.37657754143519042600e+02;
  private static final double SA3 = 4.34565877475229228821e+02;
  private static final double SA4 = 6.45387271733267880336e+02;
  private static final double SA5 = 4.29008140027567833386e+02;
  private static final double SA6 = 1.08635005541779435134e+02;
  private static final double SA7 = 6.57024977031928170135e+00;
  private static final double SA8 = -6.04244152148580987438e-02;

  // erfc on [1/0.35, 28): the same form, RB(1/x^2) / SB(1/x^2)
  private static final double RB0 = -9.86494292470009928597e-03;
  private static final double RB1 = -7.99283237680523006574e-01;
  private static final double RB2 = -1.77579549177547519889e+01;
  private static final double RB3 = -1.60636384855821916062e+02;
  private static final double RB4 = -6.37566443368389627722e+02;
  private static final double RB5 = -1.02509513161107724954e+03;
  private static final double RB6 = -4.83519191608651397019e+02;
  private static final double SB1 = 3.03380607434824582924e+01;
  private static final double SB2 = 3.25792512996573918826e+02;
  private static final double SB3 = 1.53672958608443695994e+03;
  private static final double SB4 = 3.19985821950859553908e+03;
  private static final double SB5 = 2.55305040643316442583e+03;
  private static final double SB6 = 4.74528541206955367215e+02;
  private static final double SB7 = -2.24409524465858183362e+01;

  /** Where the two fits of the tail meet. */
  private static final double TAIL_SPLIT = 1 / 0.35;

  private Erf() {}

  /** {@code erf(x)}; odd, {@code erf(+-inf) = +-1}, {@code erf(NaN) = NaN}. */
  static double erf(double x) {
    double ax = Math.abs(x);
    if (ax < 0.84375) {
      if (ax < 0x1p-28) {
        return ax < 0x1p-1015 ? 0.125 * (8.0 * x + EFX8 * x) : x + EFX * x;
      }
      return x + x * small(x * x);
    }
    if (ax < 1.25) {
      return Math.copySign(ERX + nearOne(ax - 1), x);
    }
    if (ax < 6) {
      return Math.copySign(1 - tail(ax), x);
    }
    if (ax >= 6) { // also +-inf; erf(6) is 1 - 2e-17, which rounds to 1
      return Math.copySign(1.0, x);
    }
    return x; // NaN
  }

  /** {@code erfc(x) = 1 - erf(x)}, accurate in relative terms for large {@code x}; {@code erfc(NaN) = NaN}. */
  static double erfc(double x) {
    double ax = Math.abs(x);
    if (ax < 0.84375) {
      if (ax < 0x1p-56) {
        return 1 - x;
      }
      double xy = x * small(x * x);
      // Above 1/4, erf(x) > 0.27 and 1 - x would cancel: 0.5 - (x - 0.5) keeps the low bits.
      return x < 0.25 ? 1 - (x + xy) : 0.5 - (xy + (x - 0.5));
    }
    if (ax < 1.25) {
      double pq = nearOne(ax - 1);
      return x > 0 ? (1 - ERX) - pq : 1 + (ERX + pq);
    }
    if (x > 0 && x < 28) {
      return tail(x);
    }
    if (x < 0 && x > -6) {
      return 2 - tail(ax);
    }
    if (x > 0) { // x >= 28, +inf: erfc is below the smallest subnormal
      return 0;
    }
    return x < 0 ? 2 : x; // x <= -6, -inf; else NaN
  }

  /** {@code (erf(x) - x) / x} on {@code [0, 0.84375)}, of {@code z = x^2}. */
  private static double small(double z) {
    double r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    double s = 1 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    return r / s;
  }

  /** {@code erf(1 + s) - ERX} for {@code s} in {@code [-0.15625, 0.25)}. */
  private static double nearOne(double s) {
    double p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
    double q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
    return p / q;
  }

  /** {@code erfc(x)} for {@code x} in {@code [1.25, 28)}. */
  private static double tail(double x) {
    double s = 1 / (x * x);
    double r;
    double q;
    if (x < TAIL_SPLIT) {
      r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
      q = 1 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
    } else {
      r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
      q = 1 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
    }
    // z keeps the upper 21 significant bits of x, so z * z and -z * z - 0.5625 are exact
    double z = Double.longBitsToDouble(Double.doubleToRawLongBits(x) & 0xffffffff00000000L);
    return Math.exp(-z * z - 0.5625) * Math.exp((z - x) * (z + x) + r / q) / x;
  }
}
