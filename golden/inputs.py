"""Files a user gives varimac: one exception type, one-line messages that name the file.

``read_npz`` owns reading an ``.npz`` archive (job files, results, checkpoints): it tells an
empty file, a text file, a plain ``.npy`` array, a truncated or damaged archive and a member
holding pickled objects apart, in place of numpy's own messages (a text file "contains pickled
data", a ``.npy`` "does not support the context manager protocol"), and never unpickles.
"""

import json
import zipfile
import zlib

import numpy as np

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")   # a zip's first local header, or an empty zip
NPY_MAGIC = b"\x93NUMPY"


class InputError(ValueError):
    """A file given to varimac that it cannot use. ``str()`` is one line: the path, then what
    is wrong with it (and, where it helps, what to do)."""

    def __init__(self, path, problem):
        self.path = str(path)
        super().__init__(one_line(f"{path}: {problem}"))


def one_line(text):
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(str(text).split())


def read_bytes_head(path, n=8):
    """The first ``n`` bytes of ``path``; ``InputError`` for a missing path, a directory or a
    file that cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None


def read_npz(path, *, what):
    """``{name: ndarray}`` of the ``.npz`` archive ``path`` (``what`` names the kind of file in
    messages, e.g. "job file"); ``InputError`` for anything that is not a whole, pickle-free
    archive of arrays."""
    head = read_bytes_head(path)
    if not head:
        raise InputError(path, f"empty file (0 bytes), not a {what}")
    if head.startswith(NPY_MAGIC):
        raise InputError(path, f"a single .npy array, not a {what} (an .npz archive of named "
                               f"arrays)")
    if not head.startswith(ZIP_MAGIC):
        raise InputError(path, f"not a {what}: not an .npz archive (a zip of .npy arrays)")
    arrays, name = {}, None
    try:
        # Our own handle: numpy leaks the one it opens when the archive fails to open.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            for name in f.files:
                value = f[name]
                if not isinstance(value, np.ndarray):
                    raise InputError(path, f"member {name!r} is not a .npy array")
                arrays[name] = value
    except InputError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError(path, f"member {name!r} holds Python objects (pickled data), "
                                   f"which varimac never loads") from None
        raise InputError(path, f"damaged {what} ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, MemoryError,
            NotImplementedError) as exc:
        raise InputError(path, f"damaged or truncated {what} ({type(exc).__name__}: {exc})") \
            from None
    return arrays


def read_text(path, *, what):
    """The UTF-8 text of ``path``; ``InputError`` for a missing, unreadable or non-UTF-8 file."""
    read_bytes_head(path, 0)
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a {what}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None


def read_json(path, *, what):
    """The parsed JSON of ``path``; ``InputError`` for a file that is not JSON text."""
    text = read_text(path, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not a {what}: not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, f"not a {what}: JSON nested too deeply") from None
