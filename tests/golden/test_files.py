"""The one atomic writer: the user's umask, no partial file, stranded temporaries removed; the
liberty cache as plain JSON; the cache folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from golden.files import cache_root, clean_stale, save_json, save_npz, write_atomic


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        save_json(tmp_path / "a.json", {"x": 1})
        save_npz(tmp_path / "b.npz", x=np.arange(3))
    finally:
        os.umask(old)
    for name in ("a.json", "b.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    save_json(path, {"old": True})

    def boom(f):
        f.write("partial")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        write_atomic(path, boom)
    assert json.loads(path.read_text()) == {"old": True}
    assert os.listdir(tmp_path) == ["r.json"]


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    names = {f".checkpoint.npz.tmp-{dead}-0123abcd": False,               # its writer is gone
             f".log.json.tmp-{os.getppid()}-89abcdef": True,              # a live process's
             f".log.json.tmp-{dead}-xyz": True,                           # not our pattern
             "notes.tmp-1-01234567": True}                                # not hidden
    for name in names:
        (tmp_path / name).write_text("x")
    clean_stale(tmp_path)
    assert {n: (tmp_path / n).exists() for n in names} == names


def test_the_liberty_cache_is_json_and_a_bad_cache_is_parsed_again(tmp_path, monkeypatch):
    import gzip

    from flows.eda import liberty
    lib = tmp_path / "libs"
    lib.mkdir()
    text = ('library (tiny) { time_unit : "1ns" ; voltage_unit : "1V" ; '
            'nom_voltage : 1.1 ; cell (INV_X1) { area : 1.0 ; cell_leakage_power : 0.5 ; '
            'pin (A) { direction : input ; capacitance : 0.001 ; } '
            'pin (ZN) { direction : output ; function : "!A" ; } } }\n')
    (lib / "nangate45_typ.lib.gz").write_bytes(gzip.compress(text.encode()))
    monkeypatch.setenv("VARIMAC_LIBERTY", str(lib))
    _, first = liberty.prepare_liberty("nangate45", build_dir=tmp_path / "build")
    [cache] = (tmp_path / "build" / "liberty").glob("*.json")
    assert json.loads(cache.read_text())["class"] == "Library"
    _, again = liberty.prepare_liberty("nangate45", build_dir=tmp_path / "build")
    assert liberty.encode(again) == liberty.encode(first) and "INV_X1" in again.cells
    cache.write_text(json.dumps({"class": "os.system", "fields": {}}))   # not ours: ignored
    _, third = liberty.prepare_liberty("nangate45", build_dir=tmp_path / "build")
    assert liberty.encode(third) == liberty.encode(first)
    assert not list((tmp_path / "build").rglob("*.pickle"))


def test_the_cache_is_varimac_cache_else_the_users(monkeypatch, tmp_path):
    monkeypatch.setenv("VARIMAC_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("VARIMAC_CACHE")
    assert cache_root() == Path.home() / ".cache" / "varimac"


def test_the_suite_keeps_out_of_the_users_cache(tmp_path_factory):
    """tests/conftest.py's ``private_cache``: this session's cache is one of its temporary
    folders, so no test writes decoded data sets or downloads into ~/.cache/varimac."""
    assert cache_root().is_relative_to(tmp_path_factory.getbasetemp())
    assert not cache_root().is_relative_to(Path.home() / ".cache")
