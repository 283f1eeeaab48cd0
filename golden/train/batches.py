"""Everything random in training, drawn on the host so that every backend sees the same bits.

Each draw comes from its own NumPy ``Generator`` seeded by (run seed, purpose, epoch or step):
nothing depends on what ran before, so a run resumed mid-epoch draws exactly what an
uninterrupted run draws, and no generator state needs checkpointing.
"""

import hashlib

import numpy as np

ORDER, AUGMENT, DROPOUT, INIT = 0, 1, 2, 3
SHIFT = 2  # random translation by up to ±SHIFT pixels (zero padding, then a 32x32 crop)


def rng(seed, purpose, index=0):
    return np.random.Generator(np.random.PCG64([seed, purpose, index]))


def epoch_order(seed, epoch, n):
    """The order of the ``n`` training images in ``epoch`` (a fresh permutation per epoch)."""
    return rng(seed, ORDER, epoch).permutation(n)


def augment(images, seed, step):
    """Light augmentation of uint8 NHWC images: a horizontal flip with probability 1/2 and a
    translation by (dy, dx) in [-SHIFT, SHIFT]**2, uncovered pixels zero."""
    g = rng(seed, AUGMENT, step)
    b = images.shape[0]
    flip = g.random(b) < 0.5
    dy, dx = g.integers(-SHIFT, SHIFT + 1, size=(2, b))
    x = np.where(flip[:, None, None, None], images[:, :, ::-1, :], images)
    x = np.pad(x, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)))
    rows = (SHIFT - dy)[:, None] + np.arange(32)
    cols = (SHIFT - dx)[:, None] + np.arange(32)
    return x[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]


def dropout_masks(seed, step, shapes, rates):
    """Keep-masks (bool, True = kept) for one step, one per (shape, drop rate)."""
    g = rng(seed, DROPOUT, step)
    return [g.random(shape, dtype=np.float32) >= rate for shape, rate in zip(shapes, rates)]


def job_seed(seed, step, layer, kind):
    """The 32-bit stochastic-rounding seed of one GEMM job or host quantization."""
    digest = hashlib.blake2s(f"{seed}/{step}/{layer}/{kind}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")
