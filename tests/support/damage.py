"""Generated damage for the fuzz tests: what a disk, a download or a hostile user does to a file.

Every fuzz test states the same outcome for every case: ``refused`` (exit status 2, one line
on stderr that starts ``varimac CMD: error:`` and names the file, no traceback, no output
written, the input's bytes untouched). Strategies are Hypothesis strategies; ``SETTINGS`` fixes
their example counts and derandomizes them so that CI runs the same cases every time.
"""

import functools
import io
import json
import os
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


CASES = Counter()   # test name -> generated cases run to the end (conftest prints the total)


def fuzz(n):
    """``@fuzz(n)`` above ``@given``: a fuzz test of at most ``n`` generated cases, the same
    ones every run, each counted in ``CASES`` once it has run."""
    def apply(test):
        inner = test.hypothesis.inner_test

        @functools.wraps(inner)
        def counted(*args, **kwargs):
            inner(*args, **kwargs)
            CASES[test.__name__] += 1
        test.hypothesis.inner_test = counted
        return settings(max_examples=n, **SETTINGS)(test)
    return apply


# -- bytes ----------------------------------------------------------------------------------------
def truncate(data, fraction):
    """``data`` cut at ``fraction`` of its length (always shorter by at least one byte)."""
    return data[:min(int(len(data) * fraction), len(data) - 1)]


def flip(data, fraction, bit):
    """``data`` with one bit flipped at ``fraction`` of its length."""
    return flip_at(data, min(int(len(data) * fraction), len(data) - 1), bit)


def flip_at(data, i, bit):
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]


fractions = st.floats(0, 1, exclude_max=True)
bits = st.integers(0, 7)


# -- .npz archives ----------------------------------------------------------------------------
def npz_bytes(arrays, *, compressed=False):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def read_npz_plain(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def zip_with_bad_crc(data):
    """The stored .npz ``data`` with the last data byte of its first member changed: the
    member still parses as an array, only its CRC-32 tells."""
    first = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    return flip_at(data, start + first.compress_size - 1, 0)


# wrong contents for an integer array
def bad_array(shape):
    """Arrays that no integer-array field accepts in place of one of ``shape``."""
    return st.sampled_from([
        np.full(shape, 0.5), np.zeros(shape, np.float32), np.zeros(shape, bool),
        np.zeros((0,) + tuple(shape[1:]), np.int64), np.zeros(tuple(shape) + (1,), np.int64),
        np.zeros(shape[:1], np.int64), np.array([1, 2], dtype=object), np.array("text"),
        np.zeros(shape, np.complex64)])


non_int_scalar = st.sampled_from([np.float64(1.0), np.array([1, 2]), np.array([[3]]),
                                  np.bool_(True), np.array("8"), np.zeros((0,), np.int64)])


# -- JSON ---------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)
not_dicts = json_values.filter(lambda v: not isinstance(v, dict))
not_lists = json_values.filter(lambda v: not isinstance(v, list))
not_counts = json_values.filter(lambda v: not (isinstance(v, int) and not isinstance(v, bool)
                                               and v >= 0)) | st.integers(-2**40, -1)
not_fractions = (json_values.filter(lambda v: not isinstance(v, (int, float))
                                    or isinstance(v, bool))
                 | st.floats().filter(lambda v: not 0 <= v <= 1))


def json_text(obj):
    return json.dumps(obj).encode()


def not_utf8(data, fraction):
    i = int(len(data) * fraction)
    return data[:i] + b"\xff\xfe" + data[i:]


# -- outcome ------------------------------------------------------------------------------------
def snapshot(root):
    """``{relative path: bytes}`` of every file under ``root`` (hidden ones included)."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def assert_refused(code, err, *, command, names):
    """Exit 2 and one line ``varimac COMMAND: error: ...`` that names ``names`` (the file)."""
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"varimac {command}: error: "), err
    assert "Traceback" not in err
    assert os.fspath(names) in err, err


def unwritable_dir(tmp_path):
    """A folder this process cannot create files in: a read-only one, or /sys for root (whom
    permissions do not stop)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = Path(tmp_path) / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder
