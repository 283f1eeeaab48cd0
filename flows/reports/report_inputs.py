"""The report's inputs: training logs and power files, read and validated in one place.

A log must be a JSON object with ``config`` (a known ``policy``, ``epochs`` >= 1) and at least
one finished epoch, each with a finite ``test_accuracy`` in [0, 1] and MAC and bit counts that
are non-negative integers per width (2..32); a power file must be a JSON object whose ``runs``
have a variant, a source, an integer width and a finite, non-negative ``pj_per_mac``. Anything
else is a ``ReportError``: one line naming the file and what is wrong.
"""

import math
import os

from golden.formats import MAX_WIDTH, MIN_WIDTH
from golden.inputs import InputError, read_json
from golden.train.registry import POLICIES, check_name


class ReportError(ValueError):
    """A run directory or power file that the report cannot use."""


def _bad(path, problem):
    return ReportError(str(InputError(path, problem)))


def _count(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _width_key(w):
    return isinstance(w, str) and w.isdigit() and MIN_WIDTH <= int(w) <= MAX_WIDTH


def _counts(path, e, key, i):
    counts = e.get(key)
    if not isinstance(counts, dict) or not all(_width_key(w) and _count(n)
                                               for w, n in counts.items()):
        raise _bad(path, f"epoch {i}: {key} must map widths ({MIN_WIDTH}..{MAX_WIDTH}) to "
                         f"non-negative integers, not {counts!r:.80}")
    return counts


def _read(path, what):
    try:
        return read_json(path, what=what)
    except InputError as exc:
        raise ReportError(str(exc)) from None


def load_run(path):
    """A training run's summary from ``path/log.json`` (or the log file itself)."""
    return _load(path)[2]


def read_log(path):
    """``(log file, log)``: the training log of ``path`` as a dict, once it is valid."""
    log_path, log, _ = _load(path)
    return log_path, log


def _load(path):
    log_path = os.path.join(path, "log.json") if os.path.isdir(path) else path
    if not os.path.exists(log_path):
        raise ReportError(f"{path}: no log.json (run varimac train --out {path})")
    log = _read(log_path, "training log")
    if not isinstance(log, dict):
        raise _bad(log_path, f"a training log is a JSON object, not {type(log).__name__}")
    epochs = log.get("epochs")
    if epochs in (None, []):
        raise _bad(log_path, "no finished epoch yet")
    config = log.get("config")
    if not isinstance(config, dict):
        raise _bad(log_path, "no config object (the run's policy and epochs)")
    policy, planned = config.get("policy"), config.get("epochs")
    try:
        check_name(policy)
    except ValueError:
        raise _bad(log_path, f"config policy {policy!r:.40} is not one of {', '.join(POLICIES)} "
                             f"(or a fixed-point one + headroom)") from None
    if not _count(planned) or planned < 1:
        raise _bad(log_path, f"config epochs must be an integer >= 1, not {planned!r:.40}")
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        raise _bad(log_path, "epochs must be a list of objects")
    macs, bits, accuracy = {}, {}, []
    for i, e in enumerate(epochs, 1):
        a = e.get("test_accuracy")
        if not isinstance(a, (int, float)) or isinstance(a, bool) or not 0 <= a <= 1:
            raise _bad(log_path, f"epoch {i}: test_accuracy must be a number in [0, 1], "
                                 f"not {a!r:.40}")   # NaN fails the range test too
        accuracy.append(a)
        for w, n in _counts(log_path, e, "macs_per_width", i).items():
            macs[w] = macs.get(w, 0) + n
        for w, n in _counts(log_path, e, "bits_moved_per_width", i).items():
            bits[w] = bits.get(w, 0) + n
    seed = config.get("seed", 0)
    if not _count(seed):
        raise _bad(log_path, f"config seed must be an integer >= 0, not {seed!r:.40}")
    return log_path, log, {
        "policy": policy, "seed": seed, "path": str(path), "command": _text(log.get("command")),
        "complete": log.get("complete") is True, "epochs": len(epochs),
        "epochs_planned": planned, "train_images": _int_or_none(log.get("train_images")),
        "dataset": _text(log.get("dataset")), "accuracy": accuracy,
        "final_accuracy": accuracy[-1], "best_accuracy": max(accuracy),
        "macs_per_width": macs, "bits_moved_per_width": bits,
        "width_changes": _changes(log_path, log.get("decisions"))}


def _text(x):
    return x if isinstance(x, str) else None


def _int_or_none(x):
    return x if _count(x) else None


def _changes(path, decisions):
    """Width changes after the start, one per (step, layer) (a layer's roles change together)."""
    if decisions is None:
        return []
    if not isinstance(decisions, list) or not all(
            isinstance(d, dict) and _count(d.get("step")) and _count(d.get("epoch", 0))
            and isinstance(d.get("layer"), str) and isinstance(d.get("reason", ""), str)
            for d in decisions):
        raise _bad(path, "decisions must be a list of objects with a step, an epoch, a layer "
                         "and a reason")
    changes = {}
    for d in decisions:
        if d.get("from") is not None:
            changes.setdefault((d["step"], d["layer"]), {
                k: d.get(k, "") for k in ("step", "epoch", "layer", "from", "to", "reason")})
    return list(changes.values())


def load_power(path):
    """The ``power.json`` dict of ``varimac power``, its runs checked."""
    power = _read(path, "power file")
    runs = power.get("runs") if isinstance(power, dict) else None
    if not isinstance(runs, list):
        raise _bad(path, "not a power file of varimac power (no list of runs)")
    for i, r in enumerate(runs, 1):
        ok = (isinstance(r, dict) and isinstance(r.get("variant"), str)
              and isinstance(r.get("source"), str) and _count(r.get("width"))
              and MIN_WIDTH <= r["width"] <= MAX_WIDTH)
        p = r.get("pj_per_mac") if ok else None
        if not ok or not isinstance(p, (int, float)) or isinstance(p, bool) \
                or not math.isfinite(p) or p < 0:
            raise _bad(path, f"run {i} needs a variant, a source, a width in "
                             f"{MIN_WIDTH}..{MAX_WIDTH} and a finite pj_per_mac >= 0: "
                             f"{r!r:.80}")
    return power
