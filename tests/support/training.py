"""Short training runs on synthetic data, and their results compared bit for bit."""

import json

import numpy as np

from golden.train.policies import Adaptive
from golden.train.config import TrainConfig
from golden.train.trainer import Trainer

from .cifar import synthetic

DATA = synthetic()
RUN = dict(epochs=1, batch=8, train_subset=16, test_subset=8, seed=0)   # a run on files


def run(tmp_path, name, *, policy="fixed-8", backend="numpy", epochs=1, seed=0, batch=8,
        stop_after=None, adaptive=None, policy_object=None, **kw):
    """``(trainer, log)`` of a run on ``DATA`` in ``tmp_path / name``."""
    cfg = TrainConfig(policy=policy, epochs=epochs, out=str(tmp_path / name), backend=backend,
                      device="cpu" if backend == "torch" else None, seed=seed, batch=batch,
                      checkpoint_every=1000, **kw)
    trainer = Trainer(cfg, data=DATA, progress=False)
    if adaptive:
        trainer.policy = Adaptive(**adaptive)
    if policy_object is not None:
        trainer.policy = policy_object
    log = trainer.run(stop_after=stop_after)
    return trainer, log


def params(trainer):
    if trainer.mode == "float":
        return {k: v.copy() for k, v in trainer.float.float_arrays().items()}
    return trainer.fixed.download().arrays()


def assert_same_bits(p, q):
    assert p.keys() == q.keys()
    for k in p:
        assert p[k].dtype == q[k].dtype and np.array_equal(p[k], q[k]), k


def strip_times(log):
    """A log without its wall-clock times (the only fields two identical runs differ in)."""
    log = json.loads(json.dumps(log))
    for e in log["epochs"]:
        for k in ("wall_time_s", "train_time_s", "eval_time_s"):
            e.pop(k)
    return log
