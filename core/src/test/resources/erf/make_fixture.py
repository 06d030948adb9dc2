"""Writes erf.tsv, the reference values of ErfTest: erf(x) and erfc(x) to 21
significant digits (1e-5 of a unit in the last place of a double), computed by mpmath at 60 digits, at about 3500
double x chosen around every branch point of fdlibm's erf/erfc and across each branch, both signs.

Regenerate from this directory with a Python that has mpmath (for example Debian's python3-mpmath):

    python3 make_fixture.py

The seed is fixed. Each line is `x<TAB>erf(x)<TAB>erfc(x)`; x is Python's shortest round-trip repr of the double, so
parsing it gives back the very bits, and the two values are decimal strings to be read as exact (BigDecimal).
"""

import math
import os
import random

import mpmath

SEED = 20261130
HERE = os.path.dirname(os.path.abspath(__file__))
mpmath.mp.dps = 60

# Where fdlibm changes formula (|x|), where erfc(x) turns subnormal (about 26.55) and underflows (about 27.23), the
# smallest normal double, and 1 (the centre of the [0.84375, 1.25) fit).
BRANCH_POINTS = [2.0 ** -1022, 2.0 ** -1015, 2.0 ** -56, 2.0 ** -28, 0.25, 0.5, 0.84375, 1.0, 1.25, 1 / 0.35, 6.0,
                 26.5, 26.55, 27.2, 27.25, 28.0]


def points():
    rng = random.Random(SEED)
    xs = {0.0, 1e-320, 5e-324}
    for b in BRANCH_POINTS:
        x = b
        for _ in range(6):  # b and its five neighbours on each side
            xs.add(x)
            x = math.nextafter(x, math.inf)
        x = b
        for _ in range(6):
            xs.add(x)
            x = math.nextafter(x, 0.0)
        for rel in (1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2):
            xs.add(b * (1 + rel))
            xs.add(b * (1 - rel))
    # across each branch: uniform draws between consecutive branch points, and log-uniform ones over the tiny range
    edges = [2.0 ** -28, 0.25, 0.84375, 1.25, 1 / 0.35, 6.0, 26.5, 28.0, 40.0]
    for lo, hi in zip(edges, edges[1:]):
        for _ in range(100):
            xs.add(rng.uniform(lo, hi))
    for _ in range(100):
        xs.add(2.0 ** rng.uniform(-1074, -28))
    for i in range(351):  # a grid on [0, 7] by 0.02
        xs.add(i / 50)
    xs.update(2.0 ** e for e in range(-1074, 5, 7))  # powers of two
    return sorted(xs | {-x for x in xs if x != 0.0})


def digits(v):
    return mpmath.nstr(v, 21, min_fixed=1, max_fixed=0, strip_zeros=False)


def main():
    xs = points()
    with open(os.path.join(HERE, "erf.tsv"), "w") as out:
        for x in xs:
            m = mpmath.mpf(x)
            out.write("%r\t%s\t%s\n" % (x, digits(mpmath.erf(m)), digits(mpmath.erfc(m))))
    print("wrote %d points" % len(xs))


if __name__ == "__main__":
    main()
