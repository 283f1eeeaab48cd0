"""The pinned fingerprints of a few fixed-point training runs (tests/data/train_pins.json).

The fingerprints were computed with the trainer as it stood before its speed work (the plain
``matmul_exact`` + ``requantize`` GEMM path, concatenate-based im2col; adaptive-1 again when
the adaptive rule changed, every other pin unchanged); ``tests/train/test_pins.py`` recomputes them,
so that any change of a single bit in what training computes — weights, momenta, the log, the
policy's state — fails a test. Regenerate only for a deliberate change of semantics, and say
so in the commit:

    .venv/bin/python -m tests.support.train_pins
"""

import hashlib
import json
import tempfile

import numpy as np

from .cifar import synthetic
from .paths import TEST_DATA

PINS = TEST_DATA / "train_pins.json"

# Checks at every step, and a threshold that the synthetic data's underflow passes in some
# layers, not all: the last step mixes 8- and 12-bit layers.
ADAPTIVE = {"period": 1, "widen_underflow": 0.05}
# (name, policy, batch, Adaptive arguments): 24 synthetic images, one epoch.  Batch 8 gives three
# steps (backward-weight GEMMs of K = 8192 that are K-chunked at 8 bits); batch 24 one step
# with K = 24576.
CASES = [
    ("fixed-8", "fixed-8", 8, None),
    ("fixed-16", "fixed-16", 8, None),
    ("fixed-4", "fixed-4", 8, None),
    ("autoflex", "autoflex", 8, None),
    ("adaptive-1", "adaptive", 8, ADAPTIVE),
    ("fixed-8-b24", "fixed-8", 24, None),
    ("fixed-16-b24", "fixed-16", 24, None),
]


def _digest(obj):
    if isinstance(obj, np.ndarray):
        data = np.ascontiguousarray(obj).tobytes() + str((obj.dtype.str, obj.shape)).encode()
    else:
        data = json.dumps(obj, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def fingerprint(case, backend):
    """Digests of every parameter array, the log (times removed) and the policy state."""
    from golden.train.policies import Adaptive
    from golden.train.config import TrainConfig
    from golden.train.trainer import Trainer
    _, policy, batch, adaptive = case
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(policy=policy, epochs=1, out=tmp, backend=backend,
                          device="cpu" if backend == "torch" else None, batch=batch,
                          checkpoint_every=1000)
        trainer = Trainer(cfg, data=synthetic(), progress=False)
        if adaptive:
            trainer.policy = Adaptive(**adaptive)
        log = trainer.run()
    return fingerprint_of(trainer, log)


def fingerprint_of(trainer, log):
    """``fingerprint`` of a finished run (a ``Trainer`` and its log)."""
    log = json.loads(json.dumps(log))
    for e in log["epochs"]:
        for k in ("wall_time_s", "train_time_s", "eval_time_s"):
            e.pop(k)
    log.pop("backend")
    out = {k: _digest(v) for k, v in sorted(trainer.fixed.download().arrays().items())}
    out["log"] = _digest(log)
    out["policy"] = _digest(trainer.policy.state_dict())
    return out


def pinned():
    """The committed pins: {case name: fingerprint}."""
    return json.loads(PINS.read_text())


def main():
    pins = {}
    for case in CASES:
        a, b = fingerprint(case, "numpy"), fingerprint(case, "torch")
        if a != b:
            raise SystemExit(f"{case[0]}: numpy and torch disagree; not writing pins")
        pins[case[0]] = a
        print(case[0], a["log"])
    PINS.parent.mkdir(exist_ok=True)
    PINS.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
