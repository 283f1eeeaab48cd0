"""Writing files: atomically, with the user's umask, and never over an input; and where
varimac keeps its cache (``cache_root``).

``write_atomic`` is the one way varimac writes a result: into a temporary file beside the target
(``.NAME.tmp-PID-XXXXXXXX``), renamed into place once complete, so that a failure or a kill never
leaves a partial file under the real name. The temporary file is created with mode 0666 less the
umask (as ``open`` would), not mkstemp's 0600. A temporary file stranded by a killed process is
removed by the next write into the same folder (its PID no longer runs).
"""

import json
import os
import secrets
from pathlib import Path

import numpy as np

TMP_MARK = ".tmp-"


def write_atomic(path, write, *, mode="w"):
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it into place."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    clean_stale(directory)
    tmp = os.path.join(directory, f".{name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def clean_stale(directory):
    """Remove the temporary files of writers in ``directory`` whose process is gone."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        pid = _writer_pid(name)
        if pid is not None and pid != os.getpid() and not _alive(pid):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _writer_pid(name):
    if not name.startswith(".") or TMP_MARK not in name:
        return None
    tail = name.rsplit(TMP_MARK, 1)[1].split("-")
    if len(tail) != 2 or not tail[0].isdigit() or len(tail[1]) != 8:
        return None
    return int(tail[0])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True   # it runs, as another user
    return True


def save_npz(path, *, compressed=False, **arrays):
    save = np.savez_compressed if compressed else np.savez
    write_atomic(path, lambda f: save(f, **arrays), mode="wb")


def save_json(path, obj, *, indent=1):
    write_atomic(path, lambda f: f.write(json.dumps(obj, indent=indent) + "\n"))


def save_figure(path, fig, **savefig_kw):
    """A matplotlib figure as a PNG, atomically."""
    write_atomic(path, lambda f: fig.savefig(f, format="png", **savefig_kw), mode="wb")


# -- output paths -------------------------------------------------------------------------------
def check_output_file(path, *, inputs=()):
    """Refuse, before any work, an output file that is a directory, is one of ``inputs`` (the
    same file under any name), or whose folder is missing or not writable (``ValueError``)."""
    path = os.fspath(path)
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise ValueError(f"{path} is a directory; give the name of a file to write")
    _check_not_input(path, inputs)
    parent = os.path.dirname(full)
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise ValueError(f"{path}: {parent} is not a directory")
    if not os.path.isdir(parent):
        raise ValueError(f"{path}: directory {parent} does not exist")
    _check_writable(parent, path)


def check_output_dir(path, *, inputs=(), writes=()):
    """Refuse, before any work, an output folder that is a file or cannot be created or written,
    or where one of the files ``writes`` (names in it) would replace one of ``inputs``."""
    path = os.fspath(path)
    full = os.path.abspath(path)
    if os.path.exists(full) and not os.path.isdir(full):
        raise ValueError(f"{path} exists and is not a directory")
    _check_not_input(path, inputs)
    for name in writes:
        _check_not_input(os.path.join(path, name), inputs)
    existing = full
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{path}: {existing} is not a directory")
    _check_writable(existing, path)


def _check_not_input(path, inputs):
    for source in inputs:
        try:
            same = os.path.samefile(path, source)
        except OSError:
            same = False
        if same or os.path.abspath(path) == os.path.abspath(source):
            raise ValueError(f"{path} is the input {source}: writing there would destroy it; "
                             f"choose another output")


def _check_writable(directory, path):
    """Create and remove a probe file: the only test that holds for every user and mount."""
    probe = os.path.join(directory, f".probe{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{path}: cannot write in {directory} "
                         f"({exc.strerror or type(exc).__name__})") from None


def cache_root():
    """``$VARIMAC_CACHE``, else ``~/.cache/varimac``."""
    return Path(os.environ.get("VARIMAC_CACHE") or Path.home() / ".cache" / "varimac")
