"""Atomic file writes: a failure never leaves a partial file behind."""

import json
import os
import tempfile

import numpy as np


def write_atomic(path, write, *, mode="w"):
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_npz(path, *, compressed=False, **arrays):
    save = np.savez_compressed if compressed else np.savez
    write_atomic(path, lambda f: save(f, **arrays), mode="wb")


def save_json(path, obj, *, indent=1):
    write_atomic(path, lambda f: f.write(json.dumps(obj, indent=indent) + "\n"))
