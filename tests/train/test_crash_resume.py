"""Crash test: ``kill -9`` a short ``varimac train`` at chosen points (while it writes a
checkpoint, after an epoch's log, at a seeded random moment), run the same command again each
time, and compare the finished run with an uninterrupted one bit for bit: every parameter array,
the log (times aside) and the folder's files (no temporary file left behind)."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

from golden.train.config import TrainConfig
from golden.train.trainer import CHECKPOINT, LOG, Trainer
from tests.support.cifar import write_dataset
from tests.support.paths import REPO
from tests.support.training import RUN

EPOCHS = 2   # 2 steps per epoch: 4 steps, a checkpoint after each


def start(data, out, env):
    """The command in a process of its own; its stderr goes to ``out``'s sibling ``stderr``."""
    with open(out.parent / "stderr", "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "train", "--policy", "fixed-8", "--epochs",
             str(EPOCHS), "--batch", str(RUN["batch"]), "--train-subset",
             str(RUN["train_subset"]), "--test-subset", str(RUN["test_subset"]), "--backend",
             "numpy", "--checkpoint-every", "1", "--no-progress", "--data", str(data),
             "--out", str(out)],
            env=env, stdout=subprocess.DEVNULL, stderr=err)


def kill_when(proc, ready, *, timeout=300):
    """SIGKILL ``proc`` as soon as ``ready()`` holds (polled every millisecond); True if it
    was killed, False if it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.001)
    proc.kill()
    raise AssertionError("the run neither ended nor reached the kill point")


def writing(out, name):
    """A temporary file of ``name`` exists in ``out``: a write is under way."""
    return lambda: out.is_dir() and any(p.startswith(f".{name}.tmp-") for p in os.listdir(out))


def strip_times(log):
    for e in log["epochs"]:
        for k in ("wall_time_s", "train_time_s", "eval_time_s"):
            e.pop(k)
    log.pop("command")
    return log


def test_kill_9_anywhere_then_resume_equals_uninterrupted(tmp_path, monkeypatch):
    data = write_dataset(tmp_path / "cifar-10-batches-bin")
    monkeypatch.setenv("VARIMAC_CACHE", str(tmp_path / "cache"))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = tmp_path / "killed"
    delay = random.Random(18).uniform(0.5, 3.0)
    kill_points = [   # (what, ready(t0))
        ("during the first checkpoint write", lambda t0: writing(out, CHECKPOINT)()),
        ("during a later checkpoint write",
         lambda t0: (out / CHECKPOINT).is_file() and writing(out, CHECKPOINT)()),
        ("after the first epoch's log", lambda t0: (out / LOG).is_file()),
        (f"{delay:.2f} s after the start", lambda t0: time.monotonic() - t0 > delay),
    ]
    stranded = 0
    for what, ready in kill_points:
        proc, t0 = start(data, out, env), time.monotonic()
        killed = kill_when(proc, lambda: ready(t0))
        assert killed or proc.returncode == 0, (what, (tmp_path / "stderr").read_text())
        stranded += killed and writing(out, CHECKPOINT)()
        print(what, "killed" if killed else "finished", sorted(os.listdir(out)))
    assert stranded >= 2   # the kills during a write left half-written checkpoints behind
    proc = start(data, out, env)
    assert proc.wait() == 0, (tmp_path / "stderr").read_text()

    whole = tmp_path / "whole"
    Trainer(TrainConfig(policy="fixed-8", out=str(whole), backend="numpy", data=str(data),
                        checkpoint_every=1, **dict(RUN, epochs=EPOCHS)), progress=False).run()
    # No temporary file is left: the next run's writes removed the stranded ones.
    assert sorted(os.listdir(out)) == sorted(os.listdir(whole)) == [CHECKPOINT, LOG]
    with np.load(out / CHECKPOINT) as a, np.load(whole / CHECKPOINT) as b:
        params = sorted(k for k in a.files if k != "state")
        assert params == sorted(k for k in b.files if k != "state") and params
        for k in params:
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    logs = [strip_times(json.loads((d / LOG).read_text())) for d in (out, whole)]
    assert logs[0] == logs[1] and logs[0]["complete"] and len(logs[0]["epochs"]) == EPOCHS
