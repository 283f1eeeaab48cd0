"""Precision policies from the literature (docs/training.md, "Policies from the literature").

Every width is a multiple of the array's 4-bit lane between 4 and 16 (what the default array
computes); every decision is a function of the step counter or of exact integer counters, so a
resumed run decides exactly as an uninterrupted one.

- ``Cyclic``: CPT (Fu et al., "CPT: Efficient Deep Neural Network Training via Cyclic
  Precision", ICLR 2021): the forward width follows a cosine from ``lo`` up to ``hi`` in each of
  ``cycles`` cycles; errors and weight gradients keep ``backward`` bits.
- ``Progressive``: FracTrain's progressive fractional quantization (Fu et al., NeurIPS 2020):
  the width only grows, stage by stage, over training.
- ``PerRole``: one width for the forward pass, another for errors and weight gradients, and a
  rounding per role (stochastic rounding where Gupta et al., ICML 2015, found it necessary).
- ``WideEnds``: a low width inside, a wider one for the first and the last layer.
- ``Metric``: per (layer, role) of the backward pass, its width from that role's own statistics
  (weight gradients apart from errors).
"""

import math

from ..formats import Rounding
from .network import LAYERS, LOGITS, ROLES, tensor_keys
from .policies import Policy, need_bits

LANE, MAX_WIDTH = 4, 16
FORWARD_ROLES, BACKWARD_ROLES = ("activations", "weights"), ("errors", "updates")


def check_width(w, name):
    if not (isinstance(w, int) and LANE <= w <= MAX_WIDTH and w % LANE == 0):
        raise ValueError(f"{name} must be a multiple of {LANE} from {LANE} to {MAX_WIDTH}, "
                         f"not {w!r}")
    return w


def split(forward, backward):
    """Widths: ``forward`` for activations and weights (the logits included), ``backward`` for
    errors and weight gradients."""
    return {k: forward if k[1] in FORWARD_ROLES else backward for k in tensor_keys()}


class Cyclic(Policy):
    """CPT: at step t of a cycle of T steps, forward width
    lo + LANE * round((hi - lo)/LANE * (1 - cos(pi * t / T)) / 2): lo at each cycle's start,
    rising to hi at its end, T = total steps // cycles. CPT's Eq. 1 rounds up to whole bits;
    rounded up to whole 4-bit lanes it would leave lo after a cycle's first step, so here to
    the nearest lane (halves up)."""
    name = "cyclic"

    def __init__(self, *, lo=8, hi=16, cycles=8, backward=8):
        super().__init__()
        self.lo, self.hi = check_width(lo, "lo"), check_width(hi, "hi")
        self.backward, self.cycles = check_width(backward, "backward"), cycles

    def forward_width(self, ctx):
        total = ctx.epochs * ctx.steps_per_epoch
        period = max(1, total // self.cycles)
        t = ctx.step % period
        lanes = (self.hi - self.lo) // LANE
        # Compared on a 1e-9 grid so that the rounding does not hinge on the last ulp of cos.
        x = lanes * (1 - math.cos(math.pi * t / period)) / 2
        return self.lo + LANE * math.floor(round(x, 9) + 0.5)

    def choose(self, ctx):
        w = self.forward_width(ctx)
        cycle = ctx.step // max(1, ctx.epochs * ctx.steps_per_epoch // self.cycles) + 1
        return (split(w, self.backward), f"cycle {cycle} of {self.cycles}: forward {w} bits, "
                                         f"backward {self.backward} bits")


class Progressive(Policy):
    """FracTrain-style progressive precision: ``stages`` = ((start fraction of the epochs,
    width), ...), widths non-decreasing; the stage is chosen by epoch."""
    name = "progressive"

    def __init__(self, *, stages=((0.0, 8), (0.5, 12), (0.8, 16))):
        super().__init__()
        widths = [check_width(w, "stage width") for _, w in stages]
        if widths != sorted(widths) or stages[0][0] != 0:
            raise ValueError("stages must start at 0 and never narrow")
        self.stages = tuple(stages)

    def choose(self, ctx):
        w = [w for start, w in self.stages if ctx.epoch >= start * ctx.epochs][-1]
        return {k: w for k in tensor_keys()}, (f"progressive precision: {w} bits from epoch "
                                               f"{ctx.epoch + 1}")


class PerRole(Policy):
    """``forward`` bits for activations and weights, ``backward`` bits for errors and weight
    gradients; ``rounding`` of each GEMM kind's result (forward / backward_data /
    backward_weight): here stochastic for both backward GEMMs (Gupta et al. 2015)."""
    name = "per-role"

    def __init__(self, *, forward=8, backward=12, rounding=None):
        super().__init__()
        self.forward, self.backward = check_width(forward, "forward"), check_width(backward,
                                                                                     "backward")
        self.rounding = rounding or {"forward": Rounding.NEAREST_EVEN,
                                     "backward_data": Rounding.STOCHASTIC,
                                     "backward_weight": Rounding.STOCHASTIC}

    def choose(self, ctx):
        return (split(self.forward, self.backward),
                f"forward {self.forward} bits, errors and gradients {self.backward} bits")


class WideEnds(Policy):
    """``inner`` bits everywhere but the first and the last layer (and the logits), which take
    ``ends`` bits: the layers with the highest error underflow at 8 bits (docs/training.md)."""
    name = "wide-ends"

    def __init__(self, *, inner=8, ends=16):
        super().__init__()
        self.inner, self.ends = check_width(inner, "inner"), check_width(ends, "ends")

    def choose(self, ctx):
        edge = {LAYERS[0].name, LAYERS[-1].name, LOGITS}
        return ({k: self.ends if k[0] in edge else self.inner for k in tensor_keys()},
                f"{self.inner} bits inside, {self.ends} bits in the first and last layers")


class Metric(Policy):
    """Per (layer, role) for errors and weight gradients apart, from that role's own counters:
    every ``period`` steps, with u, s its underflow and saturation rates since the last check,
    widen by a lane when u > ``widen_underflow`` or s > ``widen_saturation``; narrow by a lane
    after ``patience`` calm checks in a row (u < ``narrow_underflow``, s == 0 and, for weight
    gradients, need <= W - LANE - 1 from the seed's exponent histogram: the minimum |g|, the
    spread of the lowest ``quantile`` and max/min appear in the reason). Forward roles keep
    ``forward`` bits."""
    name = "metric"

    def __init__(self, *, forward=8, start=8, lo=8, hi=16, period=100, quantile=0.1,
                 widen_underflow=0.3, widen_saturation=1e-3, narrow_underflow=0.05, patience=3):
        super().__init__()
        self.forward = check_width(forward, "forward")
        self.lo, self.hi = check_width(lo, "lo"), check_width(hi, "hi")
        self.period, self.quantile, self.patience = period, quantile, patience
        self.widen = (widen_underflow, widen_saturation)
        self.narrow_underflow = narrow_underflow
        keys = [f"{layer.name}/{role}" for layer in LAYERS for role in BACKWARD_ROLES
                if not (layer is LAYERS[0] and role == "errors")]
        self.width = {k: check_width(start, "start") for k in keys}
        self.streak = {k: 0 for k in keys}
        self.window = {k: [0, 0, 0] for k in keys}   # underflow, saturated, count
        self.reasons = {}

    def choose(self, ctx):
        out = {k: self.forward for k in tensor_keys() if k[1] in FORWARD_ROLES}
        for layer in LAYERS:
            for role in BACKWARD_ROLES:
                out[(layer.name, role)] = self.width.get(f"{layer.name}/{role}", self.lo)
        return out, f"forward {self.forward} bits, backward from per-role statistics"

    def key_reasons(self):
        return {tuple(k.split("/")): v for k, v in self.reasons.items()}

    def wants_histograms(self, ctx):
        return ctx.step > 0 and ctx.step % self.period == 0

    def observe(self, ctx, stats):
        super().observe(ctx, stats)
        for (layer, role), t in stats.tensors.items():
            w = self.window.get(f"{layer}/{role}")
            if w is not None:
                w[0] += t["underflow"]
                w[1] += t["saturated"]
                w[2] += t["count"]
        if not self.wants_histograms(ctx):
            return
        self.reasons = {}
        for k in self.window:
            self._check(k, stats.histograms.get(tuple(k.split("/"))))

    def _check(self, k, hist):
        under, sat, count = self.window[k]
        self.window[k] = [0, 0, 0]
        if not count:
            return
        u, s = under / count, sat / count
        w, text = self.width[k], f"underflow={u:.3f}, saturation={s:.2e}"
        need = None
        if hist and sum(hist[0]):
            need, e_max, e_q, e_min = need_bits(hist[0], hist[1], self.quantile)
            text = (f"need={need} bits (min|g|=2^{e_min - 1}, max/min=2^{e_max - e_min + 1}, "
                    f"low-quantile spread={e_q - e_min} bits), " + text)
        new = w
        if u > self.widen[0] or s > self.widen[1]:
            self.streak[k], new = 0, min(self.hi, w + LANE)
        elif u < self.narrow_underflow and s == 0 and (need is None or need <= w - LANE - 1):
            self.streak[k] += 1
            if self.streak[k] >= self.patience:
                self.streak[k], new = 0, max(self.lo, w - LANE)
        else:
            self.streak[k] = 0
        if new != w:
            self.width[k] = new
            self.reasons[k] = f"{w}->{new}: {text}"

    def state_dict(self):
        return {**super().state_dict(), "width": dict(self.width), "streak": dict(self.streak),
                "window": {k: list(v) for k, v in self.window.items()},
                "reasons": dict(self.reasons)}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.width, self.streak = dict(state["width"]), dict(state["streak"])
        self.window = {k: list(v) for k, v in state["window"].items()}
        self.reasons = dict(state["reasons"])


LITERATURE = {"cyclic": Cyclic, "progressive": Progressive, "per-role": PerRole,
              "wide-ends": WideEnds, "metric": Metric}
assert set(ROLES) == set(FORWARD_ROLES + BACKWARD_ROLES)
