"""Precision policies: who decides the width of every tensor, and its fraction bits.

A policy sees a ``Context`` (step, epoch, epochs, steps per epoch) and, after each step, that
step's ``StepStats`` (per-tensor exact maxima, saturation and underflow counters, exponent
histograms when it asked for them). It answers two questions:

- ``decide(ctx)``: a ``Decision``, a width for every (layer, role) key of
  ``network.tensor_keys()`` (or ``None`` for float32 training) together with the reasons the
  trainer logs with every change, and whether the step should take exponent histograms;
- ``exponents``: an exponent rule that predicts the fraction bits of each GEMM result before
  the accelerator computes it (``predict``), from what it saw (``observe``).

All state is plain JSON (``state_dict``/``load_state_dict``), so that a resumed run decides
exactly as an uninterrupted one, and every decision is a function of exact integers. The
policies' names and how to make each live in one place, ``golden.train.registry``.
"""

from dataclasses import dataclass, field

from .exponents import AutoflexRule, MaxRule
from .network import LAYERS, LOGITS, ROLES, tensor_keys

FIXED_WIDTHS = (4, 8, 12, 16)


@dataclass(frozen=True)
class Context:
    step: int              # global step, from 0
    epoch: int
    epochs: int
    steps_per_epoch: int


# -- policies ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """A policy's answer for one step: ``widths`` ({(layer, role): width}, or None for float32),
    why (``reason``; ``reasons`` per key where a key has its own), and whether the step takes
    the exponent histograms that the policy observes next (``histograms``)."""
    widths: dict
    reason: str
    reasons: dict = field(default_factory=dict)
    histograms: bool = False

    def reason_for(self, key):
        """Why the (layer, role) ``key`` has its width."""
        return self.reasons.get(key, self.reason)


class Policy:
    """Base: one width everywhere (``None`` = float32), the MaxRule for exponents. A policy
    implements ``choose(ctx) -> (widths, reason)``; per-key reasons (``key_reasons``) and
    histogram requests (``wants_histograms``) where it has them."""
    name = "policy"

    rounding = None  # {GEMM kind: Rounding} overriding engine_fixed.ROUNDING

    def __init__(self):
        self.exponents = MaxRule()

    def decide(self, ctx):
        widths, reason = self.choose(ctx)
        return Decision(widths=widths, reason=reason, reasons=self.key_reasons(),
                        histograms=self.wants_histograms(ctx))

    def choose(self, ctx):
        raise NotImplementedError

    def key_reasons(self):
        """{(layer, role): reason} of the keys whose last width change has its own reason."""
        return {}

    def wants_histograms(self, ctx):
        return False

    def observe(self, ctx, stats):
        self.exponents.observe(stats)

    def state_dict(self):
        return {"exponents": self.exponents.state_dict()}

    def load_state_dict(self, state):
        self.exponents.load_state_dict(state["exponents"])


def need_bits(counts, offset, quantile):
    """From a histogram of binary exponents (``counts[i]`` gradients with 2**(e-1) <= |g| < 2**e
    for e = i + offset; at least one): (need, e_max, e_q, e_min), where e_q is the exponent that
    the lowest ``quantile`` of the gradients reaches and need = e_max - e_q + 1 is how many bits
    hold the gradients above it."""
    total = sum(counts)
    nz = [i for i, c in enumerate(counts) if c]
    e_min, e_max = nz[0] + offset, nz[-1] + offset
    acc = 0
    for i, c in enumerate(counts):
        acc += c
        if acc >= quantile * total:
            e_q = i + offset
            break
    return e_max - e_q + 1, e_max, e_q, e_min


def uniform(width):
    return {key: width for key in tensor_keys()}


class Float32(Policy):
    name = "float32"

    def choose(self, ctx):
        return None, "float32 reference"


class Fixed(Policy):
    def __init__(self, width):
        super().__init__()
        self.width = width
        self.name = f"fixed-{width}"

    def choose(self, ctx):
        return uniform(self.width), f"fixed width {self.width}"


class TwoPhase(Policy):
    """8 bits for the first half of the epochs, then ``second`` (16, or None = float32)."""

    def __init__(self, name, *, second):
        super().__init__()
        self.name, self.second = name, second

    def choose(self, ctx):
        if 2 * ctx.epoch < ctx.epochs:
            return uniform(8), "first half of the epochs: 8 bits"
        return (None if self.second is None else uniform(self.second),
                "second half of the epochs: " +
                ("float32" if self.second is None else f"{self.second} bits"))


class Autoflex(Policy):
    """A fixed width with Autoflex exponent prediction."""

    def __init__(self, width=8):
        super().__init__()
        self.width = width
        self.name = "autoflex"
        self.exponents = AutoflexRule()

    def choose(self, ctx):
        return uniform(self.width), f"fixed width {self.width}, Autoflex exponents"


class Adaptive(Policy):
    """Per-layer width in {8, 12, 16} from the layer's gradient statistics (docs/training.md).

    Every ``period`` steps the step's weight-gradient accumulators are histogrammed by binary
    exponent (exact). For layer l, with e_max, e_min the exponents of its largest and smallest
    nonzero |dW| and e_q that of the ``quantile`` lowest, need = e_max - e_q + 1 bits hold the
    upper (1 - quantile) of the gradients. With u and s the underflow and saturation rates of
    the layer's errors and updates since the last check:

    - widen by one lane (4 bits) when u > ``widen_underflow`` or s > ``widen_saturation``: the
      layer is losing its gradient signal;
    - narrow by one lane when u < ``narrow_underflow``, s == 0 and need <= W - 5 (W - lane - 1:
      the narrower format still holds the upper gradients) at ``patience`` checks in a row (hysteresis: the
      band between the two underflow thresholds and the delay).

    The thresholds come from the gradient statistics of real checkpoints (docs/training.md):
    ``need`` hardly moves during training (8 to 10 bits for most layers), while the error
    underflow at 8 bits grows as training converges and is highest in the cheap first and last
    layers.
    """
    name = "adaptive"

    def __init__(self, *, start=8, lo=8, hi=16, lane=4, period=100, quantile=0.1,
                 widen_underflow=0.3, widen_saturation=0.01, narrow_underflow=0.05, patience=3):
        super().__init__()
        self.lo, self.hi, self.lane, self.period, self.quantile = lo, hi, lane, period, quantile
        self.widen_underflow, self.widen_saturation = widen_underflow, widen_saturation
        self.narrow_underflow, self.patience = narrow_underflow, patience
        self.layer_width = {layer.name: start for layer in LAYERS}
        self.streak = {layer.name: 0 for layer in LAYERS}
        self.window = {layer.name: [0, 0, 0] for layer in LAYERS}  # underflow, saturated, count
        self.reasons = {}

    def choose(self, ctx):
        out = {}
        for layer in LAYERS:
            for role in ROLES:
                out[(layer.name, role)] = self.layer_width[layer.name]
        out[(LOGITS, "activations")] = self.layer_width[LAYERS[-1].name]
        return out, "; ".join(f"{k}: {v}" for k, v in self.reasons.items()) or "start at 8 bits"

    def key_reasons(self):
        # the logits take the last layer's width, and its reason
        layer_of = lambda key: LAYERS[-1].name if key[0] == LOGITS else key[0]  # noqa: E731
        return {key: self.reasons[layer_of(key)] for key in tensor_keys()
                if layer_of(key) in self.reasons}

    def wants_histograms(self, ctx):
        return ctx.step > 0 and ctx.step % self.period == 0

    def observe(self, ctx, stats):
        super().observe(ctx, stats)
        for (layer, role), t in stats.tensors.items():
            if layer in self.window and role in ("errors", "updates"):
                w = self.window[layer]
                w[0] += t["underflow"]
                w[1] += t["saturated"]
                w[2] += t["count"]
        if not stats.histograms:
            return
        self.reasons = {}
        for layer in LAYERS:
            key = (layer.name, "updates")
            if key not in stats.histograms:
                continue
            counts, offset = stats.histograms[key]
            under, sat, count = self.window[layer.name]
            self.window[layer.name] = [0, 0, 0]
            u = under / count if count else 0.0
            s = sat / count if count else 0.0
            if not sum(counts):
                continue
            need, e_max, e_q, e_min = need_bits(counts, offset, self.quantile)
            w = self.layer_width[layer.name]
            stats_text = (f"need={need} bits (e_max={e_max}, e_q{int(self.quantile * 100)}={e_q},"
                          f" min|g|=2^{e_min - 1}, max/min=2^{e_max - e_min + 1},"
                          f" low-quantile spread={e_q - e_min} bits), underflow={u:.3f},"
                          f" saturation={s:.4f}")
            new = w
            if u > self.widen_underflow or s > self.widen_saturation:
                self.streak[layer.name] = 0
                new = min(self.hi, w + self.lane)
            elif u < self.narrow_underflow and s == 0 and need <= w - self.lane - 1:
                self.streak[layer.name] += 1
                if self.streak[layer.name] >= self.patience:
                    self.streak[layer.name] = 0
                    new = max(self.lo, w - self.lane)
            else:
                self.streak[layer.name] = 0
            if new != w:
                self.layer_width[layer.name] = new
                self.reasons[layer.name] = f"{w}->{new}: {stats_text}"

    def state_dict(self):
        return {**super().state_dict(), "layer_width": dict(self.layer_width),
                "streak": dict(self.streak), "window": {k: list(v) for k, v in self.window.items()},
                "reasons": dict(self.reasons)}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.layer_width = dict(state["layer_width"])
        self.streak = dict(state["streak"])
        self.window = {k: list(v) for k, v in state["window"].items()}
        self.reasons = dict(state["reasons"])
