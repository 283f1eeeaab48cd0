"""Runs of one policy with different seeds: mean and standard deviation, and Welch's 95%
interval for the difference of two policies' mean final accuracies.

A comparison gets a verdict only when its interval excludes zero (or the stated slack);
"within noise" otherwise. The Student t quantile is computed here (no SciPy): the regularized
incomplete beta function by its continued fraction (Numerical Recipes, 2nd ed., section 6.4),
inverted by bisection.
"""

import math

CONFIDENCE = 0.95


def mean_std(values):
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    m = sum(values) / n
    return m, (math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0)


def _betacf(a, b, x):
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1 - x) / b


def t_cdf(t, df):
    """P(T <= t) for Student's t with ``df`` (> 0, possibly fractional) degrees of freedom."""
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(p, df):
    """The t with P(T <= t) = p, for 0.5 <= p < 1."""
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def welch(a, b, *, confidence=CONFIDENCE):
    """Welch's interval for mean(a) - mean(b): (difference, low, high); None when a side has
    fewer than two values (no spread to judge by)."""
    if len(a) < 2 or len(b) < 2:
        return None
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    va, vb = sa * sa / len(a), sb * sb / len(b)
    diff, se = ma - mb, math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    half = t_quantile(0.5 + confidence / 2, df) * se
    return diff, diff - half, diff + half


def verdict(interval, *, slack=0.0):
    """For an interval of a - b: "higher" when all of it lies above -``slack``, "lower" when all
    of it lies below -``slack``, "within noise" when it straddles -``slack``; "n=1: no
    interval" when there is none."""
    if interval is None:
        return "n=1: no interval"
    _, lo, hi = interval
    if lo + slack > 0:
        return "higher"
    if hi + slack < 0:
        return "lower"
    return "within noise"
