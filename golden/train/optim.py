"""SGD with momentum and weight decay, in integers (fixed point) and in float32.

The hyper-parameters are dyadic rationals ``num / 2**exp`` so that the fixed-point update is
integer multiplies by small constants and rounded shifts:

    v <- mu * v + lr * (g + wd * w)        w <- w - v

momentum mu = 7/8, weight decay wd = 2**-11, and the learning rate 2**-5 for the first half of
the epochs, 2**-6 until three quarters, 2**-7 after. The float32 reference uses the same values.
"""

from dataclasses import dataclass

MASTER_WIDTH = 32          # master weights, velocities: Q(32, Fm) integers in int64
GUARD = 8                  # extra fraction bits of the gradient term before the lr multiply
MAX_NUM = 255              # keeps every int64 intermediate below 2**62


@dataclass(frozen=True)
class Dyadic:
    """The rational ``num / 2**exp``."""
    num: int
    exp: int

    def __post_init__(self):
        if not isinstance(self.num, int) or not 0 <= self.num <= MAX_NUM:
            raise ValueError(f"num must be an integer in [0, {MAX_NUM}], not {self.num!r}")
        if not isinstance(self.exp, int) or not 0 <= self.exp <= 24:
            raise ValueError(f"exp must be an integer in [0, 24], not {self.exp!r}")

    @property
    def value(self):
        return self.num / (1 << self.exp)


MOMENTUM = Dyadic(7, 3)
WEIGHT_DECAY = Dyadic(1, 11)


def learning_rate(epoch, epochs):
    """Step schedule: 2**-5, then 2**-6 from half the epochs, 2**-7 from three quarters."""
    if 4 * epoch >= 3 * epochs:
        return Dyadic(1, 7)
    if 2 * epoch >= epochs:
        return Dyadic(1, 6)
    return Dyadic(1, 5)


def fixed_update(ops, w, v, g, *, g_frac, m_frac, lr):
    """One step on int64 master ``w`` and velocity ``v`` (both Q(32, m_frac)) from the
    integer-valued gradient ``g`` with ``g_frac`` fraction bits. Returns ``(w, v, clamped)``.

    Each rounding is to nearest, ties to even (``ops.round_shift``); the gradient term is first
    brought to m_frac + GUARD fraction bits, so the learning-rate product keeps GUARD bits below
    the master's last place. ``ops.fused`` runs the same integer steps as one kernel.
    """
    bound = (1 << (MASTER_WIDTH - 1)) - 1
    s = g_frac - (m_frac + GUARD)
    g_bound = 1 << max(52 + s, 0)  # for a left shift: bounds g so that it cannot leave int64
    if ops.fused:
        from . import kernels     # numba loads only when a step runs, not for --help
        h = ops.to_host
        w, v, clamped = kernels.sgd_update(
            h(w), h(v), h(g), g_shift=s, lr_num=lr.num, lr_exp=lr.exp + GUARD,
            wd_num=WEIGHT_DECAY.num, wd_shift=WEIGHT_DECAY.exp - GUARD, mu_num=MOMENTUM.num,
            mu_exp=MOMENTUM.exp, bound=bound, g_bound=g_bound, m_bound=1 << 52)
        return ops.from_host(w), ops.from_host(v), clamped
    g, clamped = ops.i64(g), 0
    if s < 0:
        g, clamped = ops.clamp_int(g, g_bound)
    gm, n = ops.clamp_int(ops.round_shift(g, s), 1 << 52)
    clamped += n
    total = gm + ops.round_shift(w * WEIGHT_DECAY.num, WEIGHT_DECAY.exp - GUARD)
    v = (ops.round_shift(v * MOMENTUM.num, MOMENTUM.exp)
         + ops.round_shift(total * lr.num, lr.exp + GUARD))
    v, n = ops.clamp_int(v, bound)
    clamped += n
    w, n = ops.clamp_int(w - v, bound)
    return w, v, clamped + n


def float_update(w, v, g, *, lr):
    """The same step in float32 on torch tensors (in place): v = mu*v + lr*(g + wd*w); w -= v."""
    v.mul_(MOMENTUM.value).add_(g.add(w, alpha=WEIGHT_DECAY.value), alpha=lr.value)
    w.sub_(v)
