"""runs/keep.sh and runs/run_all.sh: an unfinished run travels in the repository and resumes.

Each script runs in a scratch copy of the repository layout, with ``.venv/bin/python`` this
interpreter and, for run_all.sh, ``.venv/bin/varimac`` a stand-in that records what it was given
and writes a finished log.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from tests.support.paths import REPO


def scratch(tmp_path):
    (tmp_path / "runs").mkdir()
    for name in ("keep.sh", "run_all.sh"):
        shutil.copy(REPO / "runs" / name, tmp_path / "runs" / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, tmp_path / ".venv" / "bin" / "python")
    return tmp_path


def put(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def log(epochs, complete):
    return json.dumps({"complete": complete, "epochs": [{"epoch": e + 1} for e in range(epochs)]})


def sh(root, *argv):
    return subprocess.run(["sh", *argv], cwd=root, capture_output=True, text=True, check=True)


def test_keep_copies_unfinished_runs_and_never_a_shorter_log(tmp_path):
    root = scratch(tmp_path)
    put(root / "build/runs/a/log.json", log(2, False))        # nothing committed yet
    put(root / "build/runs/a/checkpoint.npz", "ckpt a")
    put(root / "build/runs/b/log.json", log(2, False))        # an earlier try got further
    put(root / "build/runs/b/checkpoint.npz", "ckpt b")
    put(root / "runs/b/log.json", log(5, False))
    put(root / "build/runs/c/log.json", log(3, True))         # finished: nothing to keep
    put(root / "build/runs/c/checkpoint.npz", "ckpt c")
    out = sh(root, "runs/keep.sh").stdout
    assert out.splitlines() == ["kept a (checkpoint and log)", "kept b (checkpoint)"]
    assert (root / "runs/a/checkpoint.npz").read_text() == "ckpt a"
    assert (root / "runs/a/log.json").read_text() == log(2, False)
    assert (root / "runs/b/checkpoint.npz").read_text() == "ckpt b"
    assert (root / "runs/b/log.json").read_text() == log(5, False)
    assert not (root / "runs/c").exists()


STAND_IN = """#!/bin/sh
# varimac stand-in: records its arguments and whether a checkpoint was there, finishes the run
while [ $# -gt 0 ]; do [ "$1" = --policy ] && p=$2; [ "$1" = --out ] && out=$2; echo "$1" >> args.txt; shift; done
if [ -e "runs/$p" ]; then echo "runs/$p exists while training" >> args.txt; fi
if [ -f "$out/checkpoint.npz" ]; then cat "$out/checkpoint.npz" >> args.txt; fi
printf '%s' '{"complete": true, "epochs": []}' > "$out/log.json"
"""


def test_run_all_resumes_from_the_committed_checkpoint_and_drops_it_when_done(tmp_path):
    root = scratch(tmp_path)
    varimac = root / ".venv/bin/varimac"
    varimac.write_text(STAND_IN)
    varimac.chmod(varimac.stat().st_mode | stat.S_IXUSR)
    put(root / "runs/fixed-16/checkpoint.npz", "committed checkpoint")
    put(root / "runs/fixed-16/log.json", log(3, False))
    sh(root, "runs/run_all.sh", "20", "fixed-16")
    args = (root / "args.txt").read_text().split()
    assert args[:6] == ["train", "--policy", "fixed-16", "--epochs", "20", "--backend"]
    assert args[-2:] == ["committed", "checkpoint"]  # it started from the committed copy
    assert json.loads((root / "runs/fixed-16/log.json").read_text())["complete"]
    assert not (root / "runs/fixed-16/checkpoint.npz").exists()


def test_run_all_skips_a_policy_whose_committed_log_is_complete(tmp_path):
    root = scratch(tmp_path)
    varimac = root / ".venv/bin/varimac"
    varimac.write_text(STAND_IN)
    varimac.chmod(varimac.stat().st_mode | stat.S_IXUSR)
    put(root / "runs/fixed-8/log.json", log(20, True))
    assert sh(root, "runs/run_all.sh", "20", "fixed-8").stdout == (
        "fixed-8: finished, runs/fixed-8/log.json\n")
    assert not (root / "args.txt").exists()
    assert (root / "runs/fixed-8/log.json").read_text() == log(20, True)


def test_run_all_makes_no_empty_run_folder_while_a_run_trains(tmp_path):
    """`make paper` reads every folder in runs/: one without a log would stop it."""
    root = scratch(tmp_path)
    varimac = root / ".venv/bin/varimac"
    varimac.write_text(STAND_IN)
    varimac.chmod(varimac.stat().st_mode | stat.S_IXUSR)
    sh(root, "runs/run_all.sh", "20", "fixed-4")
    assert "exists while training" not in (root / "args.txt").read_text()
    assert json.loads((root / "runs/fixed-4/log.json").read_text())["complete"]
