"""Fuzz: damaged training logs and power files given to ``varimac report``.

Each case: exit 2, one line naming the damaged file, no output folder, the inputs untouched.
"""

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.cli import main
from tests.support.damage import (assert_refused, fractions, fuzz, json_text, json_values,
    not_counts, not_dicts, not_fractions, not_lists, not_utf8, snapshot, truncate, unwritable_dir)

LOG = {"config": {"policy": "fixed-8", "epochs": 2, "seed": 0}, "command": "varimac train",
       "complete": True, "train_images": 100, "dataset": "synthetic",
       "epochs": [{"test_accuracy": 0.25, "macs_per_width": {"8": 1000},
                   "bits_moved_per_width": {"8": 64}},
                  {"test_accuracy": 0.5, "macs_per_width": {"8": 1000, "16": 10},
                   "bits_moved_per_width": {"8": 64}}],
       "decisions": [{"step": 0, "epoch": 0, "layer": "*", "role": "*", "from": None, "to": 8,
                      "reason": "fixed width 8"}]}
POWER = {"runs": [{"variant": "tunable", "source": "random", "width": w, "pj_per_mac": p}
                  for w, p in ((8, 0.25), (16, 1.0))]}


def report(log=json_text(LOG), power=json_text(POWER), *, out="out"):
    """``varimac report`` on one run whose log.json holds ``log``: (code, err, log path, power
    path, before, after)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        run.mkdir()
        (run / "log.json").write_bytes(log)
        (Path(tmp) / "power.json").write_bytes(power)
        before = snapshot(tmp)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["report", "--runs", str(run), "--power", str(Path(tmp) / "power.json"),
                         "--out", str(Path(tmp) / out)])
        return code, err.getvalue(), run / "log.json", Path(tmp) / "power.json", before, \
            snapshot(tmp)


def assert_log_refused(log=json_text(LOG), power=json_text(POWER), *, bad="log"):
    code, err, log_path, power_path, before, after = report(log, power)
    assert_refused(code, err, command="report", names=log_path if bad == "log" else power_path)
    assert after == before


def test_the_intact_inputs_make_a_report():
    code, err, *_, after = report()
    assert code == 0, err
    assert {"out/figure.png", "out/pareto.png", "out/results.md", "out/report.json"} <= set(after)


def edited(doc, path, value):
    """A copy of JSON ``doc`` with ``path`` (a tuple of keys / indices) set to ``value``, or
    deleted where ``value`` is ``DELETE``."""
    doc = json.loads(json.dumps(doc))
    *head, last = path
    node = doc
    for key in head:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


DELETE = object()
LOG_DAMAGE = {
    ("config",): not_dicts, ("config", "policy"): json_values | st.sampled_from(
        ["fixed-7", "FIXED-8", "two phase", ""]),
    ("config", "epochs"): not_counts | st.just(0), ("epochs",): not_lists.filter(
        lambda v: v is not None),
    ("epochs", 0): not_dicts, ("epochs", 1, "test_accuracy"): not_fractions,
    ("epochs", 0, "macs_per_width"): not_dicts,
    ("epochs", 1, "macs_per_width", "16"): not_counts,
    ("epochs", 0, "bits_moved_per_width", "8"): not_counts,
    ("epochs", 1, "macs_per_width"): st.dictionaries(
        st.sampled_from(["1", "33", "x", "-8", "8.0", ""]), st.integers(0, 9), min_size=1),
    ("decisions",): not_lists.filter(lambda v: v is not None),
    ("decisions", 0): not_dicts, ("decisions", 0, "step"): not_counts,
}


@fuzz(40)
@given(path=st.sampled_from(sorted(LOG_DAMAGE, key=str)), delete=st.booleans(), data=st.data())
def test_log_fields_of_wrong_type_or_range(path, delete, data):
    optional = path in {("decisions",), ("epochs", 1, "macs_per_width", "16"),
                        ("epochs", 0, "bits_moved_per_width", "8")}
    if delete and not optional and path[-1] not in (0, 1):
        value = DELETE
    else:
        value = data.draw(LOG_DAMAGE[path], label=str(path))
    assert_log_refused(json_text(edited(LOG, path, value)))


@fuzz(25)
@given(kind=st.sampled_from(["truncated", "not UTF-8", "not an object"]), fraction=fractions,
       data=st.data())
def test_log_that_is_not_a_json_object(kind, fraction, data):
    text = json_text(LOG)
    damaged = {"truncated": lambda: truncate(text, fraction),
               "not UTF-8": lambda: not_utf8(text, fraction),
               "not an object": lambda: json_text(data.draw(not_dicts))}[kind]()
    assert_log_refused(damaged)


POWER_DAMAGE = {("runs",): not_lists, ("runs", 0): not_dicts,
                ("runs", 0, "pj_per_mac"): st.one_of(
                    st.floats(max_value=-1e-9), st.sampled_from([float("nan"), float("inf")]),
                    json_values.filter(lambda v: not isinstance(v, (int, float)))),
                ("runs", 1, "width"): not_counts | st.sampled_from([0, 1, 33, 64]),
                ("runs", 0, "variant"): json_values.filter(lambda v: not isinstance(v, str))}


@fuzz(25)
@given(path=st.sampled_from(sorted(POWER_DAMAGE, key=str)), fraction=fractions, data=st.data())
def test_power_file_of_wrong_types(path, fraction, data):
    kind = data.draw(st.sampled_from(["field", "truncated", "not an object"]))
    if kind == "field":
        power = json_text(edited(POWER, path, data.draw(POWER_DAMAGE[path])))
    elif kind == "truncated":
        power = truncate(json_text(POWER), fraction)
    else:
        power = json_text(data.draw(not_dicts))
    assert_log_refused(power=power, bad="power")


def test_folders_and_missing_files(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "log.json").mkdir(parents=True)
    (tmp_path / "power.json").write_bytes(json_text(POWER))
    cases = [(["--runs", str(run), "--power", str(tmp_path / "power.json")], run / "log.json"),
             (["--runs", str(tmp_path / "nope"), "--power", str(tmp_path / "power.json")],
              tmp_path / "nope"),
             (["--runs", str(run), "--power", str(tmp_path)], tmp_path)]
    for argv, named in cases:
        assert main(["report", *argv, "--out", str(tmp_path / "out")]) == 2
        assert_refused(2, capsys.readouterr().err, command="report", names=named)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["power", "log", "unwritable"])
def test_outputs_that_are_inputs_or_cannot_be_written(tmp_path, capsys, where):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.json").write_bytes(json_text(LOG))
    power = tmp_path / "power.json"
    power.write_bytes(json_text(POWER))
    out = {"power": power, "log": run / "log.json",
           "unwritable": unwritable_dir(tmp_path) / "out"}[where]
    before = snapshot(tmp_path)
    assert main(["report", "--runs", str(run), "--power", str(power), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err, err
    assert snapshot(tmp_path) == before
