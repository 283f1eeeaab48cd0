"""Training computes today exactly the bits it computed before its speed work.

``tests/data/train_pins.json`` holds digests (weights, momenta, the log, the policy's state) of
short runs made with the plain GEMM path; ``tests/support/train_pins.py`` wrote it and documents when to
regenerate it. Every fast path (float32 accumulators, batched K-chunks, in-place rounding,
strided im2col) must reproduce them on both backends.
"""

import pytest

from tests.support.train_pins import CASES, fingerprint, pinned

PINNED = pinned()
BY_NAME = {case[0]: case for case in CASES}


# fixed-4/8/16 and adaptive-1 on both backends are checked by tests/train/test_bits.py, which runs
# exactly those configurations anyway.
@pytest.mark.parametrize("name,backend", [
    ("autoflex", "torch"), ("fixed-8-b24", "torch"), ("fixed-16-b24", "numpy"),
])
def test_training_bits_are_pinned(name, backend):
    got = fingerprint(BY_NAME[name], backend)
    differ = sorted(k for k in PINNED[name] if got.get(k) != PINNED[name][k])
    assert not differ, f"{name} on {backend}: {differ} changed"


def test_the_pins_cover_every_case():
    assert set(PINNED) == set(BY_NAME)
