"""Tiny CIFAR-10 data: files in the official binary layout, archives, and in-memory data sets."""

import tarfile

import numpy as np

PER_BATCH = 3


def random_batches(seed=0):
    """{batch name: (pixels, labels)} of ``PER_BATCH`` random records each."""
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {n: (rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8),
                rng.integers(0, 10, PER_BATCH, dtype=np.uint8)) for n in names}


def write_bin(folder, batches):
    """``batches`` in the binary layout (``cifar-10-batches-bin``) in the new ``folder``."""
    from golden.train.data import CLASSES
    folder.mkdir(parents=True)
    for name, (pixels, labels) in batches.items():
        records = np.concatenate([labels[:, None], pixels], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n")


def tar(src_dir, path, mode):
    with tarfile.open(path, mode) as archive:
        archive.add(src_dir, arcname=src_dir.name)


def write_dataset(folder, *, per_batch=4, seed=0):
    """The CIFAR-10 binary layout with ``per_batch`` random records per batch."""
    from golden.train.data import RECORD
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, (per_batch, RECORD), dtype=np.uint8)
        records[:, 0] %= 10
        (folder / name).write_bytes(records.tobytes())
    return folder


def synthetic(n_train=24, n_test=8, seed=0):
    """A random in-memory ``Cifar10``."""
    from golden.train.data import Cifar10
    rng = np.random.default_rng(seed)
    return Cifar10(train_x=rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
                   train_y=rng.integers(0, 10, n_train).astype(np.uint8),
                   test_x=rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
                   test_y=rng.integers(0, 10, n_test).astype(np.uint8), source="synthetic")
