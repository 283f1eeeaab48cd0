"""Exponent rules: how a policy predicts the fraction bits of each GEMM result before the
accelerator computes it (``predict(key, width, e_now)``), from what it saw at earlier steps
(``observe(stats)``). State is plain JSON (``state_dict``/``load_state_dict``)."""

import math

from ..formats import FRAC_LIMIT


def _key(k):
    return f"{k[0]}/{k[1]}"


def _clamp_frac(f):
    return max(-FRAC_LIMIT, min(FRAC_LIMIT, f))


class MaxRule:
    """Dynamic fixed point: a GEMM result's fraction bits fit the exact maximum that the same
    tensor had at the previous step (|v| < 2**e  ->  F = width - 1 - e). A tensor seen for the
    first time is calibrated on its own accumulator."""
    name = "max"

    def __init__(self):
        self.last = {}

    def predict(self, key, width, e_now):
        e = self.last.get(_key(key), e_now)
        return _clamp_frac(width - 1 - (e if e is not None else 0))

    def observe(self, stats):
        for key, e in stats.exponents.items():
            self.last[_key(key)] = e

    def state_dict(self):
        return {"last": dict(self.last)}

    def load_state_dict(self, state):
        self.last = dict(state["last"])


class HeadroomRule(MaxRule):
    """MaxRule with headroom: the exponent is the largest of the last ``window`` steps' plus
    ``margin`` bits, so a maximum may grow by 2**margin over the recent peak before the
    result saturates (the plain rule saturates whenever it grows at all; docs/training.md
    measures both)."""
    name = "headroom"

    def __init__(self, *, window=8, margin=1):
        super().__init__()
        self.window, self.margin = window, margin
        self.recent = {}

    def predict(self, key, width, e_now):
        hist = self.recent.get(_key(key))
        if not hist:
            return _clamp_frac(width - 1 - (e_now if e_now is not None else 0) - self.margin)
        return _clamp_frac(width - 1 - max(hist) - self.margin)

    def observe(self, stats):
        super().observe(stats)
        for key, e in stats.exponents.items():
            hist = self.recent.setdefault(_key(key), [])
            hist.append(e)
            del hist[:-self.window]

    def state_dict(self):
        return {**super().state_dict(), "recent": {k: list(v) for k, v in self.recent.items()}}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.recent = {k: list(v) for k, v in state["recent"].items()}


class AutoflexRule:
    """Flexpoint-style Autoflex: the next maximum is predicted from the last ``window`` maxima
    as mean + 3 standard deviations, times 2**margin; the margin grows by one bit after a step
    in which the tensor saturated and shrinks by one after ``calm`` steps without saturation."""
    name = "autoflex"

    def __init__(self, *, window=16, max_margin=3, calm=100):
        self.window, self.max_margin, self.calm = window, max_margin, calm
        self.maxima, self.margin, self.clean = {}, {}, {}

    def predict(self, key, width, e_now):
        k = _key(key)
        hist = self.maxima.get(k)
        if not hist:
            e = e_now if e_now is not None else 0
        else:
            mean = sum(hist) / len(hist)
            sd = math.sqrt(sum((v - mean) ** 2 for v in hist) / len(hist))
            pred = (mean + 3.0 * sd) * 2.0 ** self.margin.get(k, 0)
            e = math.frexp(pred)[1] if pred > 0 else 0
        return _clamp_frac(width - 1 - e)

    def observe(self, stats):
        for key, v in stats.maxima.items():
            k = _key(key)
            hist = self.maxima.setdefault(k, [])
            hist.append(v)
            del hist[:-self.window]
        for key, t in stats.tensors.items():
            k = _key(key)
            if key not in stats.maxima:
                continue
            if t["saturated"]:
                self.margin[k] = min(self.max_margin, self.margin.get(k, 0) + 1)
                self.clean[k] = 0
            else:
                self.clean[k] = self.clean.get(k, 0) + 1
                if self.clean[k] >= self.calm and self.margin.get(k, 0) > 0:
                    self.margin[k] -= 1
                    self.clean[k] = 0

    def state_dict(self):
        return {"maxima": {k: list(v) for k, v in self.maxima.items()},
                "margin": dict(self.margin), "clean": dict(self.clean)}

    def load_state_dict(self, state):
        self.maxima = {k: list(v) for k, v in state["maxima"].items()}
        self.margin, self.clean = dict(state["margin"]), dict(state["clean"])
