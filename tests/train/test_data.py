"""The CIFAR-10 loader on tiny synthetic files in both official layouts (and archives)."""

import io
import pickle

import numpy as np
import pytest

from golden.train import data as cifar
from golden.train.data import DataError, find, load_cifar10
from tests.support.cifar import PER_BATCH, random_batches, tar, write_bin


def _write_py(folder, batches):
    folder.mkdir(parents=True)
    for name, (pixels, labels) in batches.items():
        blob = {b"batch_label": name.encode(), b"labels": [int(v) for v in labels],
                b"data": pixels, b"filenames": [b"x.png"] * len(labels)}
        (folder / name).write_bytes(pickle.dumps(blob, protocol=2))


def _expected(batches):
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    pix = np.concatenate([p for p, _ in train])
    # Naive reference: pixel (y, x) of channel c is byte c*1024 + y*32 + x of the record.
    img = np.zeros((len(pix), 32, 32, 3), np.uint8)
    for n in range(len(pix)):
        for c in range(3):
            for y in range(32):
                img[n, y, :, c] = pix[n, c * 1024 + y * 32: c * 1024 + y * 32 + 32]
    return img, np.concatenate([lab for _, lab in train])


@pytest.mark.parametrize("layout", ["bin-dir", "bin-tar.gz", "bin-tar.xz", "py-dir", "py-tar.gz",
                                    "parent-dir"])
def test_layouts_decode_to_the_same_arrays(tmp_path, layout):
    batches = random_batches()
    kind = "py" if layout.startswith("py") else "bin"
    folder = tmp_path / "src" / f"cifar-10-batches-{kind}"
    (_write_py if kind == "py" else write_bin)(folder, batches)
    if layout.endswith("dir"):
        source = folder if layout != "parent-dir" else tmp_path / "src"
    else:
        ext = layout.split("-", 1)[1]
        name = "cifar-10-python.tar.gz" if kind == "py" else f"cifar-10-binary.{ext}"
        source = tmp_path / name
        tar(folder, source, "w:gz" if ext == "tar.gz" else "w:xz")
    d = load_cifar10(source, cache_dir=tmp_path / "cache")
    img, lab = _expected(batches)
    assert d.train_x.shape == (5 * PER_BATCH, 32, 32, 3) and d.train_x.dtype == np.uint8
    assert np.array_equal(d.train_x, img)
    assert np.array_equal(d.train_y, lab)
    assert np.array_equal(d.test_y, batches["test_batch"][1])


def test_archive_in_a_folder_is_found(tmp_path):
    folder = tmp_path / "x" / "cifar-10-batches-bin"
    write_bin(folder, random_batches())
    (tmp_path / "datasets").mkdir()
    tar(folder, tmp_path / "datasets" / "cifar-10-binary.tar.xz", "w:xz")
    assert find(tmp_path / "datasets") == tmp_path / "datasets" / "cifar-10-binary.tar.xz"


def test_decoded_arrays_are_cached(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-bin"
    write_bin(folder, random_batches())
    archive = tmp_path / "cifar-10-binary.tar.gz"
    tar(folder, archive, "w:gz")
    first = load_cifar10(archive, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("cifar10-*.npz"))) == 1

    def no_decode(source):
        raise AssertionError("decoded again instead of reading the cache")
    monkeypatch.setattr(cifar, "_decode", no_decode)
    again = load_cifar10(archive, cache_dir=tmp_path / "cache")
    assert np.array_equal(first.train_x, again.train_x)
    assert np.array_equal(first.test_y, again.test_y)


def test_missing_data_names_both_ways_to_point_at_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VARIMAC_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("VARIMAC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cifar, "REPO_ROOT", tmp_path / "repo")
    with pytest.raises(DataError) as info:
        load_cifar10(cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "--data" in message and "VARIMAC_DATA" in message and "nowhere" in message
    assert "\n" not in message


def test_truncated_batch_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    write_bin(folder, random_batches())
    blob = (folder / "data_batch_3.bin").read_bytes()
    (folder / "data_batch_3.bin").write_bytes(blob[:-5])
    with pytest.raises(DataError, match="data_batch_3.bin.*whole number"):
        load_cifar10(folder, cache_dir=tmp_path / "cache")


def test_python_batch_with_foreign_objects_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_py(folder, random_batches())
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": io.BytesIO()}))
    with pytest.raises(DataError, match="test_batch"):
        load_cifar10(folder, cache_dir=tmp_path / "cache")
