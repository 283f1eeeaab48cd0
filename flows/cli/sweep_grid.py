"""A grid of training runs (policies x seeds x options) as independent ``varimac train`` runs
on Ray core tasks.

Each run is ``varimac train`` in its own process, writing ``OUT/<name>/`` (``log.json``,
``checkpoint.npz``) and ``OUT/logs/<name>.txt`` (its output). A run whose ``log.json`` says
``complete`` is skipped; any other is started again on the same folder, which resumes it from
its checkpoint (``golden.train.trainer``): a rerun of the sweep finishes what an interrupted one left.
A run that fails is reported with the end of its output, and the sweep exits non-zero.
"""

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass

# Options of ``varimac train`` that a grid may set (a list of values sweeps them).
OPTIONS = ("epochs", "train_subset", "test_subset", "batch", "backend", "data",
           "checkpoint_every")
ERROR_LINES = 5  # lines of a failed run's output in the report


class SweepError(ValueError):
    """A grid that cannot be run (the command turns it into a usage error)."""


@dataclass(frozen=True)
class Run:
    name: str
    policy: str
    seed: int
    options: tuple  # ((option, value), ...)

    def argv(self, out_dir, *, device=None):
        """The ``varimac train`` arguments of this run."""
        args = ["train", "--policy", self.policy, "--seed", str(self.seed), "--no-progress",
                "--out", os.path.join(out_dir, self.name)]
        for key, value in self.options:
            args += ["--" + key.replace("_", "-"), str(value)]
        if device:
            args += ["--device", device]
        return args


def load_grid(path):
    """``(policies, seeds, options)`` from a JSON grid file: {"policies": [...], "seeds":
    [...], "options": {"epochs": 20, "train_subset": [256, 512], ...}}."""
    try:
        with open(path) as f:
            grid = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise SweepError(f"--grid {path}: cannot read it ({exc})") from None
    if not isinstance(grid, dict) or set(grid) - {"policies", "seeds", "options"}:
        raise SweepError(f"--grid {path}: must be an object with keys policies, seeds, options")
    policies, seeds, options = grid.get("policies"), grid.get("seeds"), grid.get("options") or {}
    if not isinstance(policies, list) or not isinstance(seeds, list) or not isinstance(options,
                                                                                        dict):
        raise SweepError(f"--grid {path}: policies and seeds must be lists, options an object")
    return policies, seeds, options


def expand(policies, seeds, options):
    """The runs of a grid, checked; a run's name is ``<policy>-s<seed>``, plus ``-<option><value>``
    for every option swept over several values."""
    from golden.train.registry import check_name
    if not policies or not seeds:
        raise SweepError("a grid needs at least one policy and one seed")
    for p in policies:
        try:
            check_name(p)
        except ValueError as exc:
            raise SweepError(str(exc)) from None
    if any(not isinstance(s, int) or isinstance(s, bool) or not 0 <= s < 1 << 32 for s in seeds):
        raise SweepError(f"seeds must be integers from 0 to 2**32 - 1, not {seeds!r}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise SweepError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(OPTIONS)}")
    values = {k: (v if isinstance(v, list) else [v]) for k, v in sorted(options.items())}
    swept = [k for k, v in values.items() if len(v) > 1]
    runs = []
    for combo in itertools.product(*values.values()):
        opts = tuple(zip(values, combo))
        suffix = "".join(f"-{k}{v}" for k, v in opts if k in swept)
        runs += [Run(f"{p}-s{s}{suffix}", p, s, opts) for p in policies for s in seeds]
    if len({r.name for r in runs}) != len(runs):
        raise SweepError("the grid names two runs alike (a policy or seed listed twice?)")
    return runs


def run_state(out_dir, run):
    """"done" (its log says complete), "partial" (a checkpoint or log to resume) or "new"."""
    folder = os.path.join(out_dir, run.name)
    try:
        with open(os.path.join(folder, "log.json")) as f:
            if json.load(f).get("complete") is True:
                return "done"
    except (OSError, ValueError, AttributeError):
        pass
    return "partial" if os.path.exists(os.path.join(folder, "checkpoint.npz")) else "new"


def train_process(argv, log_path, threads):
    """One ``varimac train`` process (a Ray task); returns (exit status, end of its output)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as log:
        rc = subprocess.run([sys.executable, "-m", "flows.cli", *argv], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=root).returncode
    with open(log_path) as log:
        tail = [line.rstrip() for line in log if line.strip()][-ERROR_LINES:]
    return rc, "\n".join(tail)


def execute(runs, out_dir, *, address=None, cpus_per_run=1, gpus_per_run=0, progress=True):
    """Run every run not yet done on Ray; returns ``{name: {"status", "error"}}`` with status
    "skipped" (done before), "done" or "failed"."""
    import ray
    out_dir = os.path.abspath(out_dir)
    results = {r.name: {"status": "skipped", "error": None} for r in runs
               if run_state(out_dir, r) == "done"}
    todo = [r for r in runs if r.name not in results]
    if not todo:
        return results
    ray.init(address=address, num_cpus=None if address else os.cpu_count(),
             include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(train_process).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run)
        device = "cuda" if gpus_per_run else None
        pending = {task.remote(r.argv(out_dir, device=device),
                               os.path.join(out_dir, "logs", r.name + ".txt"), cpus_per_run): r
                   for r in todo}
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_run))
        bar = _bar(progress, len(runs), len(results))
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(ready[0])
            try:
                rc, tail = ray.get(ready[0])
            except Exception as exc:  # the task itself died (worker lost, out of memory...)
                rc, tail = -1, f"{type(exc).__name__}: {exc}"
            results[run.name] = ({"status": "done", "error": None} if rc == 0 else
                                 {"status": "failed", "error": f"exit status {rc}: {tail}"})
            _report(bar, results, len(pending), slots, run.name)
        if bar is not None:
            bar.close()
    finally:
        ray.shutdown()
    return results


def _bar(enabled, total, initial):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, desc="sweep", unit="run", dynamic_ncols=True)


def _report(bar, results, pending, slots, name):
    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("done", "skipped", "failed")}
    if bar is None:
        return
    bar.update(1)
    bar.set_postfix(done=counts["done"] + counts["skipped"], running=min(pending, slots),
                    queued=max(0, pending - slots), failed=counts["failed"])
    if results[name]["status"] == "failed":
        bar.write(f"FAILED {name}: {results[name]['error']}")
