"""The training loop: data order, policy decisions, checkpoints, the per-epoch log, traces.

``train(TrainConfig(...))`` trains the network under a precision policy and writes into
``out``: ``log.json`` (rewritten after every epoch), ``checkpoint.npz`` (every
``checkpoint_every`` steps and after every epoch; a run started again on the same ``out`` resumes
from it, mid-epoch included, with exactly the bits of an uninterrupted run) and, with
``trace``, ``traces/w<W>/*.npz`` contract job files sampled from the run.
"""

import math
import os
import time

import numpy as np

from ..backends import get_backend
from .batches import augment, dropout_masks, epoch_order
from .checkpoint import (CheckpointError, check_identity, check_resumable, narrow, read_checkpoint,
                         widths_from_json, widths_to_json, write_checkpoint)
from .data import load_cifar10
from .engine_fixed import FixedEngine
from .epoch import EpochAccumulator, decision_entries
from .gemms import StepRun, StepStats
from ..files import save_json
from .network import MasterParams, dropout_rates, feature_shapes, parameter_count
from .optim import learning_rate
from .policies import Context
from .registry import make_policy
from .tracer import Tracer

CHECKPOINT = "checkpoint.npz"
LOG = "log.json"
EVAL_BATCH = 500
# What a checkpoint must agree on to be resumed by a run.
IDENTITY = ("policy", "epochs", "seed", "batch", "train_subset", "test_subset")


class Trainer:
    def __init__(self, config, *, data=None, progress=True):
        self.cfg = config
        self.progress = progress
        self.data = data if data is not None else load_cifar10(config.data)
        n_train, n_test = len(self.data.train_y), len(self.data.test_y)
        self.n_train = min(config.train_subset or n_train, n_train)
        self.n_test = min(config.test_subset or n_test, n_test)
        self.steps_per_epoch = math.ceil(self.n_train / config.batch)
        self.backend = get_backend(config.backend, device=config.device)
        self.fixed = FixedEngine(self.backend, seed=config.seed)
        self.float = None
        self.policy = make_policy(config.policy)
        self.fixed.rounding.update(self.policy.rounding or {})
        self.tracer = Tracer(os.path.join(config.out, "traces"), cap=config.trace_cap) \
            if config.trace else None

    # -- state ------------------------------------------------------------------------------
    def fresh_state(self):
        self.mode = "fixed"
        self.fixed.upload(MasterParams.init(self.cfg.seed))
        self.w_frac, self.b_frac = list(self.fixed.w_frac), list(self.fixed.b_frac)
        self.step = 0
        self.epoch, self.pos = 0, 0
        self.widths = "unset"
        self.acc = EpochAccumulator()
        self.log = {"config": self.identity(), "command": self.cfg.command,
                    "dataset": self.data.source, "parameters": parameter_count(),
                    "train_images": self.n_train, "test_images": self.n_test,
                    "steps_per_epoch": self.steps_per_epoch, "backend": self.cfg.backend,
                    "epochs": [], "decisions": [], "complete": False}

    def identity(self):
        return {k: getattr(self.cfg, k) for k in IDENTITY}

    def save_checkpoint(self):
        arrays = (self.fixed.download().arrays() if self.mode == "fixed"
                  else self.float.float_arrays())
        state = {"identity": self.identity(), "mode": self.mode, "step": self.step,
                 "epoch": self.epoch, "pos": self.pos, "widths": widths_to_json(self.widths),
                 "w_frac": self.w_frac, "b_frac": self.b_frac,
                 "policy": self.policy.state_dict(), "acc": self.acc.state_dict(),
                 "log": self.log, "tracer": self.tracer.state_dict() if self.tracer else None}
        write_checkpoint(os.path.join(self.cfg.out, CHECKPOINT),
                         {k: narrow(v) for k, v in arrays.items()}, state)

    def load_checkpoint(self, path):
        """Resume from ``path``, validated whole before any of it is used (``CheckpointError``:
        one line naming the file; ``ValueError`` for a checkpoint of another run)."""
        arrays, state = read_checkpoint(path)
        check_identity(path, state, self.identity())
        init = MasterParams.init(self.cfg.seed)
        check_resumable(path, state, epochs=self.cfg.epochs, steps_per_epoch=self.steps_per_epoch,
                        batch=self.cfg.batch, fractions=(init.w_frac, init.b_frac))
        try:
            self.policy.load_state_dict(state["policy"])
            self.acc = EpochAccumulator.from_state(state["acc"])
            if self.tracer and state["tracer"]:
                self.tracer.load_state_dict(state["tracer"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(path, f"damaged checkpoint: malformed state "
                                        f"({type(exc).__name__}: {exc})") from None
        self.mode, self.step = state["mode"], state["step"]
        self.epoch, self.pos = state["epoch"], state["pos"]
        self.widths = widths_from_json(state["widths"])
        self.w_frac, self.b_frac = state["w_frac"], state["b_frac"]
        self.log = state["log"]
        if self.mode == "fixed":
            self.fixed.upload(MasterParams.from_arrays(arrays, w_frac=self.w_frac,
                                                       b_frac=self.b_frac))
        else:
            self._float_engine().load_float_arrays(arrays, w_frac=self.w_frac, b_frac=self.b_frac)

    def _float_engine(self):
        if self.float is None:
            from .engine_float import FloatEngine
            device = self.backend.device if self.cfg.backend == "torch" else "cpu"
            self.float = FloatEngine(device)
        return self.float

    def _switch(self, mode):
        if mode == self.mode:
            return
        if mode == "float":
            self._float_engine().upload(self.fixed.download())
        else:
            self.fixed.upload(self.float.download())
        self.mode = mode

    # -- the loop ---------------------------------------------------------------------------
    def run(self, *, stop_after=None):
        """Train to the end (or until ``stop_after`` steps of this call, then checkpoint)."""
        os.makedirs(self.cfg.out, exist_ok=True)
        path = os.path.join(self.cfg.out, CHECKPOINT)
        if os.path.exists(path):
            self.load_checkpoint(path)
        else:
            self.fresh_state()
        if self.log["complete"]:
            return self.log
        done = 0
        while self.epoch < self.cfg.epochs:
            order = epoch_order(self.cfg.seed, self.epoch, self.n_train)
            bar = _bar(self.progress, self.steps_per_epoch, self.pos,
                       f"{self.cfg.policy} epoch {self.epoch + 1}/{self.cfg.epochs}")
            t0 = time.perf_counter()
            while self.pos < self.steps_per_epoch:
                if stop_after is not None and done >= stop_after:
                    self.acc.wall += time.perf_counter() - t0
                    self.save_checkpoint()
                    _close(bar)
                    return self.log
                idx = order[self.pos * self.cfg.batch:(self.pos + 1) * self.cfg.batch]
                loss = self.train_step(idx)
                self.pos += 1
                self.step += 1
                done += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                if self.step % self.cfg.checkpoint_every == 0 and self.pos < self.steps_per_epoch:
                    self.acc.wall += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    self.save_checkpoint()
            _close(bar)
            self.acc.wall += time.perf_counter() - t0
            self.end_epoch()
        self.log["complete"] = True
        self.save_checkpoint()
        save_json(os.path.join(self.cfg.out, LOG), self.log)
        return self.log

    def train_step(self, idx):
        cfg = self.cfg
        ctx = Context(step=self.step, epoch=self.epoch, epochs=cfg.epochs,
                      steps_per_epoch=self.steps_per_epoch)
        decision = self.policy.decide(ctx)
        widths = decision.widths
        if widths != self.widths:
            self.log["decisions"] += decision_entries(self.widths, decision, step=self.step,
                                                      epoch=self.epoch)
            self.widths = widths
        self._switch("float" if widths is None else "fixed")
        images = augment(self.data.train_x[idx], cfg.seed, self.step)
        labels = self.data.train_y[idx].astype(np.int64)
        masks = dropout_masks(cfg.seed, self.step, feature_shapes(len(idx)), dropout_rates())
        lr = learning_rate(self.epoch, cfg.epochs)
        stats = StepStats()
        if self.mode == "float":
            loss = self.float.step(images, labels, masks, lr, stats)
        else:
            run = StepRun(self.policy.exponents, stats, self.step,
                          histograms=decision.histograms,
                          jobs=[] if self.tracer and self.pos == 0 else None)
            loss = self.fixed.step(images, labels, masks, widths, lr, run)
            if run.jobs:
                self.tracer.save(self.epoch, self.step, run.jobs, self.fixed.ops)
            self.policy.observe(ctx, stats)
        self.acc.add(loss, len(idx), stats)
        return loss

    def evaluate(self):
        correct = 0
        x, y = self.data.test_x[:self.n_test], self.data.test_y[:self.n_test]
        for s in range(0, self.n_test, EVAL_BATCH):
            xb = x[s:s + EVAL_BATCH]
            if self.mode == "float":
                pred = self.float.predict(xb)
            else:
                pred = self.fixed.predict(xb, self.widths, self.policy.exponents)
            correct += int(np.count_nonzero(pred == y[s:s + EVAL_BATCH]))
        return correct / self.n_test

    def end_epoch(self):
        t0 = time.perf_counter()
        accuracy = self.evaluate()
        eval_time = time.perf_counter() - t0
        entry = self.acc.summary()
        entry.update(epoch=self.epoch + 1, engine=self.mode,
                     learning_rate=learning_rate(self.epoch, self.cfg.epochs).value,
                     test_accuracy=accuracy, eval_time_s=round(eval_time, 3),
                     wall_time_s=round(self.acc.wall + eval_time, 3))
        self.log["epochs"].append(entry)
        self.epoch += 1
        self.pos = 0
        self.acc = EpochAccumulator()
        self.save_checkpoint()
        save_json(os.path.join(self.cfg.out, LOG), self.log)


def train(config, *, data=None, progress=True, stop_after=None):
    """Train (or resume) per ``config``; returns the log dict (also in ``out/log.json``)."""
    return Trainer(config, data=data, progress=progress).run(stop_after=stop_after)


# -- helpers ------------------------------------------------------------------------------------
def _bar(enabled, total, initial, desc):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True)


def _close(bar):
    if bar is not None:
        bar.close()
