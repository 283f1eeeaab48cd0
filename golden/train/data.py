"""CIFAR-10: find it, decode it once, cache the arrays.

Accepted sources (``path`` may name any of them, or a folder that holds one):

- the official *binary version*: ``cifar-10-binary.tar.gz`` or its folder ``cifar-10-batches-bin/``
  (``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``; records of one label byte
  and 3,072 pixel bytes, red, green and blue planes, row-major);
- the official *python version*: ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/``
  (pickled dicts with ``data`` (10000×3072 uint8) and ``labels``);
- the project's ``cifar-10-binary.tar.xz`` (the binary layout, compressed with xz).

Where no path is given, ``$VARIMAC_DATA`` is used, then the folder ``varimac data download``
fills (``$VARIMAC_CACHE/datasets``), then ``../shared/datasets`` beside the checkout. Decoding an
xz archive takes seconds, so the decoded arrays are cached in ``$VARIMAC_CACHE`` (default
``~/.cache/varimac``), keyed by the source's path, size and modification time, and written
atomically.

A data set is named in logs by file name and sha256 (``Cifar10.source``, e.g.
``cifar-10-binary.tar.xz sha256:cfac39bf...``), never by its path on this machine; for an
extracted folder the digest covers its files in name order.
"""

import hashlib
import io
import lzma
import os
import pickle
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import cache_root, save_npz

RECORD = 1 + 3 * 32 * 32
BIN_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
BIN_TEST = "test_batch.bin"
PY_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
PY_TEST = "test_batch"
ARCHIVES = ("cifar-10-binary.tar.xz", "cifar-10-binary.tar.gz", "cifar-10-python.tar.gz")
FOLDERS = ("cifar-10-batches-bin", "cifar-10-batches-py")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_VERSION = 2


class DataError(ValueError):
    """The data set is missing or malformed; the message says what to do."""


@dataclass(frozen=True, eq=False)
class Cifar10:
    """Images as uint8 (N, 32, 32, 3) (height, width, channel) and labels as uint8 (N,)."""
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    source: str
    classes: tuple = CLASSES


def default_search():
    """The places looked at when no path is given, in order."""
    places = []
    env = os.environ.get("VARIMAC_DATA")
    if env:
        places.append(Path(env))
    places.append(cache_root() / "datasets")
    places.append(REPO_ROOT.parent / "shared" / "datasets")
    return places


def find(path=None):
    """The source (an archive file or a batches folder) that ``path`` (or the defaults) names."""
    places = [Path(path)] if path is not None else default_search()
    for place in places:
        found = _source_in(place)
        if found is not None:
            return found
    where = ", ".join(str(p) for p in places) or "(nowhere: VARIMAC_DATA is unset)"
    raise DataError(
        f"CIFAR-10 not found (looked in {where}): put cifar-10-binary.tar.xz, the official "
        f"cifar-10-binary.tar.gz or cifar-10-python.tar.gz, or an extracted "
        f"cifar-10-batches-bin/ or cifar-10-batches-py/ folder there, or point at it with "
        f"--data PATH or VARIMAC_DATA=PATH, or fetch the official archive with "
        f"varimac data download")


def load_cifar10(path=None, *, cache_dir=None):
    """Find, decode (or read from the cache) and return CIFAR-10 as a ``Cifar10``."""
    source = find(path)
    cache = _cache_file(source, cache_dir)
    if cache is not None and cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as f:
                arrays = {k: f[k] for k in ("train_x", "train_y", "test_x", "test_y")}
                name = f["source"].tobytes().decode()
            return Cifar10(source=name, **arrays)
        except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile,
                zlib.error):
            pass  # a damaged cache is rebuilt below
    arrays = _decode(source)
    name = source_name(source)
    if cache is not None:
        _write_cache(cache, dict(arrays, source=np.frombuffer(name.encode(), np.uint8)))
    return Cifar10(source=name, **arrays)


def source_name(source):
    """How logs name ``source``: its file name and sha256, no path."""
    digest = hashlib.sha256()
    for f in sorted(source.iterdir()) if source.is_dir() else [source]:
        if f.is_file():
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return f"{source.name}{'/' if source.is_dir() else ''} sha256:{digest.hexdigest()}"


# -- finding ------------------------------------------------------------------------------------
def _source_in(place):
    if place.is_file():
        return place
    if not place.is_dir():
        return None
    if (place / BIN_TEST).is_file() or (place / PY_TEST).is_file():
        return place
    for name in FOLDERS:
        if (place / name).is_dir():
            return place / name
    for name in ARCHIVES:
        if (place / name).is_file():
            return place / name
    return None


# -- decoding -----------------------------------------------------------------------------------
def _decode(source):
    if source.is_dir():
        files = {p.name: p for p in source.iterdir() if p.is_file()}
        reader = lambda name: files[name].read_bytes()  # noqa: E731
        return _from_members(set(files), reader, source)
    try:
        with tarfile.open(source, mode="r:*") as tar:
            # One pass in archive order: a compressed tar cannot seek back cheaply.
            blobs = {}
            for member in tar:
                base = os.path.basename(member.name)
                if member.isfile() and base in BIN_TRAIN + (BIN_TEST,) + PY_TRAIN + (PY_TEST,):
                    blobs[base] = tar.extractfile(member).read()
            # Read to the end: gzip and xz check their CRC only there, and tar stops early.
            while tar.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        # Truncated or bit-flipped: the decompressor or the tar reader stops on it.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{source}: damaged or truncated archive ({reason}): download it "
                        f"again or point --data at an intact copy") from None
    return _from_members(set(blobs), blobs.__getitem__, source)


def _from_members(names, read, source):
    if set(BIN_TRAIN + (BIN_TEST,)) <= names:
        train = [_parse_bin(read(n), f"{source}/{n}") for n in BIN_TRAIN]
        test = _parse_bin(read(BIN_TEST), f"{source}/{BIN_TEST}")
    elif set(PY_TRAIN + (PY_TEST,)) <= names:
        train = [_parse_py(read(n), f"{source}/{n}") for n in PY_TRAIN]
        test = _parse_py(read(PY_TEST), f"{source}/{PY_TEST}")
    else:
        raise DataError(f"{source}: holds neither the binary ({', '.join(BIN_TRAIN)}, {BIN_TEST})"
                        f" nor the python ({', '.join(PY_TRAIN)}, {PY_TEST}) CIFAR-10 batches")
    return dict(train_x=np.concatenate([x for x, _ in train]),
                train_y=np.concatenate([y for _, y in train]), test_x=test[0], test_y=test[1])


def _parse_bin(blob, name):
    if len(blob) == 0 or len(blob) % RECORD:
        raise DataError(f"{name}: {len(blob)} bytes is not a whole number of {RECORD}-byte records")
    rec = np.frombuffer(blob, dtype=np.uint8).reshape(-1, RECORD)
    return _images(rec[:, 1:], name), _labels(rec[:, 0], name)


def _parse_py(blob, name):
    try:
        batch = _SafeUnpickler(io.BytesIO(blob), encoding="bytes").load()
        data, labels = batch[b"data"], batch[b"labels"]
    except (pickle.UnpicklingError, KeyError, TypeError, EOFError, AttributeError) as exc:
        raise DataError(f"{name}: not a CIFAR-10 python batch ({exc})") from None
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != RECORD - 1:
        raise DataError(f"{name}: data must be uint8 rows of {RECORD - 1} bytes, "
                        f"not {data.dtype} {data.shape}")
    labels = np.asarray(labels)
    if labels.shape != (data.shape[0],):
        raise DataError(f"{name}: {labels.shape[0]} labels for {data.shape[0]} images")
    return _images(data, name), _labels(labels, name)


def _images(planes, name):
    # (N, 3072) as R, G, B planes, each row-major 32x32 -> (N, 32, 32, 3).
    return np.ascontiguousarray(planes.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _labels(labels, name):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{name}: labels must be 0..9, found {int(labels.max())}")
    return labels.astype(np.uint8)


class _SafeUnpickler(pickle.Unpickler):
    """Only what an official CIFAR-10 python batch needs; ``numpy.core`` read as ``numpy._core``."""
    ALLOWED = {("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core"):]
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


# -- caching ------------------------------------------------------------------------------------
def _cache_file(source, cache_dir):
    if cache_dir is None:
        cache_dir = cache_root()
    parts = [str(CACHE_VERSION), str(source.resolve())]
    files = sorted(source.iterdir()) if source.is_dir() else [source]
    for f in files:
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"cifar10-{key}.npz"


def _write_cache(path, arrays):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_npz(path, **arrays)
    except OSError:
        pass  # an unwritable cache only costs time
