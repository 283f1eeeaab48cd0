"""The CIFAR-10 subset shipped with the repository, so that ``varimac demo`` runs anywhere.

``golden/train/datasets/cifar10-demo.npz`` holds the first ``DEMO_TRAIN`` training records and the
first ``DEMO_TEST`` test records of CIFAR-10 (the subsets ``varimac demo`` and the learning test
use: a training run takes the first N images of each split). The pixels are one lossless WebP
mosaic (32 images a row, training images first), about half the size of the raw bytes; labels
and the records' indices are plain arrays. The file's sha256 is checked on every load, and
``make_demo_subset`` (``varimac data demo-subset``) writes it again from a full archive.
"""

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from .data import Cifar10, DataError, load_cifar10
from ..files import save_npz

DEMO_FILE = Path(__file__).resolve().parent / "datasets" / "cifar10-demo.npz"
DEMO_SHA256 = "73861109a7d1af5bb018a8d7186f4a07da1bff358af7cc30f28ddb0d9cafab72"
DEMO_TRAIN, DEMO_TEST = 2560, 640
PER_ROW = 32


def load_demo(path=DEMO_FILE, *, sha256=DEMO_SHA256):
    """The shipped subset as a ``Cifar10``; ``DataError`` if the file is missing or altered."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the demo subset ({exc.strerror})") from None
    digest = hashlib.sha256(blob).hexdigest()
    if sha256 is not None and digest != sha256:
        raise DataError(f"{path}: sha256 {digest} is not the expected {sha256}: the file is "
                        f"damaged; restore it (git checkout) or rebuild it with "
                        f"varimac data demo-subset")
    from PIL import Image
    with np.load(io.BytesIO(blob), allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    mosaic = np.asarray(Image.open(io.BytesIO(arrays["webp"].tobytes())).convert("RGB"))
    n_train, n_test = len(arrays["train_y"]), len(arrays["test_y"])
    images = _tiles(mosaic)[:n_train + n_test]
    return Cifar10(train_x=images[:n_train], train_y=arrays["train_y"],
                   test_x=images[n_train:], test_y=arrays["test_y"],
                   source=f"{path.name} sha256:{digest}")


def make_demo_subset(source, out, *, n_train=DEMO_TRAIN, n_test=DEMO_TEST):
    """Write the subset file from the full data set ``source``; returns its sha256."""
    from PIL import Image
    data = load_cifar10(source)
    images = np.concatenate([data.train_x[:n_train], data.test_x[:n_test]])
    meta = {"source": data.source, "train_records": [0, n_train], "test_records": [0, n_test],
            "layout": f"WebP lossless mosaic, {PER_ROW} images a row, training images first"}
    buf = io.BytesIO()
    Image.fromarray(_mosaic(images)).save(buf, "WEBP", lossless=True, quality=100, method=6)
    save_npz(out, webp=np.frombuffer(buf.getvalue(), np.uint8),
             train_y=data.train_y[:n_train], test_y=data.test_y[:n_test],
             train_index=np.arange(n_train, dtype=np.int32),
             test_index=np.arange(n_test, dtype=np.int32),
             meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    check = load_demo(out, sha256=None)
    if not (np.array_equal(check.train_x, data.train_x[:n_train])
            and np.array_equal(check.test_x, data.test_x[:n_test])):
        raise DataError(f"{out}: the WebP mosaic does not decode to the same pixels")
    return hashlib.sha256(Path(out).read_bytes()).hexdigest()


def _mosaic(images):
    rows = -(-len(images) // PER_ROW)
    padded = np.zeros((rows * PER_ROW, 32, 32, 3), np.uint8)
    padded[:len(images)] = images
    return padded.reshape(rows, PER_ROW, 32, 32, 3).transpose(0, 2, 1, 3, 4) \
        .reshape(rows * 32, PER_ROW * 32, 3)


def _tiles(mosaic):
    rows = mosaic.shape[0] // 32
    return np.ascontiguousarray(mosaic.reshape(rows, 32, PER_ROW, 32, 3)
                                .transpose(0, 2, 1, 3, 4).reshape(-1, 32, 32, 3))
