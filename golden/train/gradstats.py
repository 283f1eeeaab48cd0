"""Gradient statistics of training checkpoints at each width: what the adaptive policy reads.

For every checkpoint and width W, the checkpoint's parameters take ``steps`` training steps at W
bits everywhere on the same batches, each from the checkpoint's parameters again (nothing is
trained); the first step calibrates the exponent rule and is not counted. Per layer: the bits
``need`` holds the upper 90%, 75% and 50% of the weight gradients (``policies.need_bits``), and
the underflow rates of the layer's errors and updates and their saturation rate. The
parameters are a pure function of the run and its step (training is bit-deterministic), so a
rerun of the run to that step gives the same figures.
"""

import hashlib

import numpy as np

from ..backends import get_backend
from .batches import augment, dropout_masks, epoch_order
from .checkpoint import read_checkpoint
from .engine_fixed import FixedEngine
from .gemms import StepRun, StepStats
from .network import LAYERS, MasterParams, dropout_rates, feature_shapes
from .optim import Dyadic
from .exponents import MaxRule
from .policies import need_bits, uniform

QUANTILES = (0.1, 0.25, 0.5)
NO_STEP = Dyadic(0, 0)  # parameters are uploaded again before every step anyway


class GradStatsError(ValueError):
    """A checkpoint that cannot be read as a fixed-point training checkpoint."""


def load(path):
    """(MasterParams, description) of a fixed-point training checkpoint."""
    try:
        arrays, state = read_checkpoint(path)
    except ValueError as exc:
        raise GradStatsError(str(exc)) from None
    if state.get("mode") != "fixed":
        raise GradStatsError(f"{path}: a float32-phase checkpoint has no fixed-point state")
    master = MasterParams.from_arrays(arrays, w_frac=state["w_frac"], b_frac=state["b_frac"])
    digest = hashlib.sha256(b"".join(a.tobytes() for a in master.arrays().values()))
    return master, {"path": str(path), "policy": state["identity"]["policy"],
                    "epoch": state["epoch"], "step": state["step"],
                    "parameters_sha256": digest.hexdigest()[:16]}


def statistics(master, data, *, widths=(8, 12, 16), steps=3, batch=128, backend="numpy"):
    """Rows ``{"width", "layer", "need10", "need25", "need50", "errors_underflow",
    "updates_underflow", "saturation"}`` (rates over the counted steps)."""
    engine = FixedEngine(get_backend(backend), seed=0)
    order = epoch_order(0, 0, len(data.train_y))
    rows = []
    for width in widths:
        rule, sums = MaxRule(), {}
        for s in range(steps):
            engine.upload(master)
            idx = order[np.arange(s * batch, (s + 1) * batch) % len(order)]  # wraps round
            stats = StepStats()
            engine.step(augment(data.train_x[idx], 0, s), data.train_y[idx].astype(np.int64),
                        dropout_masks(0, s, feature_shapes(len(idx)), dropout_rates()),
                        uniform(width), NO_STEP, StepRun(rule, stats, s, histograms=True))
            rule.observe(stats)
            if s:
                _add(sums, stats)
        for layer in LAYERS:
            t = sums[layer.name]
            rows.append({"width": width, "layer": layer.name,
                         **{f"need{int(q * 100)}": round(float(np.mean(t[q])), 2)
                            if t[q] else None for q in QUANTILES},
                         "errors_underflow": _rate(t["errors"]),
                         "updates_underflow": _rate(t["updates"]),
                         "saturation": _rate(t["saturated"])})
    return rows


def _add(sums, stats):
    for layer in LAYERS:
        t = sums.setdefault(layer.name, {q: [] for q in QUANTILES} |
                            {"errors": [0, 0], "updates": [0, 0], "saturated": [0, 0]})
        counts, offset = stats.histograms[(layer.name, "updates")]
        for q in QUANTILES:
            if sum(counts):
                t[q].append(need_bits(counts, offset, q)[0])
        for role in ("errors", "updates"):
            c = stats.tensors.get((layer.name, role))
            if c is not None:
                t[role][0] += c["underflow"]
                t[role][1] += c["count"]
                t["saturated"][0] += c["saturated"]
                t["saturated"][1] += c["count"]


def _rate(pair):
    return round(pair[0] / pair[1], 4) if pair[1] else None


def _g(value, spec="g"):
    return "–" if value is None else format(value, spec)


def markdown(checkpoints):
    """One table per checkpoint (``load``'s description with its ``statistics`` as "rows"): a
    row per layer, the statistics at each width side by side."""
    out = []
    for ckpt in checkpoints:
        rows = ckpt["rows"]
        widths = sorted({r["width"] for r in rows})
        out.append(f"**{ckpt['policy']}, epoch {ckpt['epoch']}, step {ckpt['step']}** "
                   f"(parameters sha256 {ckpt['parameters_sha256']})\n")
        head = ["layer", f"need 10/25/50% @{widths[0]}"] + [
            f"{name} @{w}" for name in ("err. underflow", "upd. underflow", "saturation")
            for w in widths]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for layer in LAYERS:
            by_w = {r["width"]: r for r in rows if r["layer"] == layer.name}
            first = by_w[widths[0]]
            cells = [layer.name, "/".join(_g(first[f"need{int(q * 100)}"]) for q in QUANTILES)]
            for k in ("errors_underflow", "updates_underflow", "saturation"):
                cells += [_g(by_w[w][k], ".3g") for w in widths]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)
