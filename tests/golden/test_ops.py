"""One definition of each contract operation (golden.ops): checked against the naive reference
of docs/arithmetic.md, and every fast implementation of it (backends, numba kernels, the int64
state arithmetic of training) checked bit for bit against that definition."""

import numpy as np
import pytest
import torch

from golden import Rounding, fused, ops
from golden.backend_numpy import NumpyBackend
from golden.backend_torch import TorchBackend
from golden.train.hostops import host_ops
from golden.prng import prng, prng_grid
from tests.support.reference import ref_prng, ref_round

ROW0, COL0 = 2 ** 32 - 2, 2 ** 31 - 5  # grid indices wrap modulo 2**32


def accumulators(seed, shape=(5, 13)):
    rng = np.random.default_rng(seed)
    acc = rng.integers(-2 ** 40, 2 ** 40, shape)
    acc[0, :6] = [2 ** 9, -2 ** 9, 3 * 2 ** 9, 0, 1, -1]  # ties at shift 10, zero, tiny
    return acc


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("shift", [-3, 0, 1, 10, 33, 45])
def test_round_shift_is_the_reference(rounding, shift):
    acc = accumulators(abs(shift)).astype(object)
    acc[1, 0] = 2 ** 70 + 2 ** 69 + 1  # past int64: Python integers throughout
    got = ops.round_shift(acc, shift, rounding=rounding, seed=9, row0=ROW0, col0=COL0)
    want = [[ref_round(int(v), shift, int(rounding),
                       ref_prng(9, (ROW0 + i) & 0xFFFFFFFF, (COL0 + j) & 0xFFFFFFFF))
             for j, v in enumerate(row)] for i, row in enumerate(acc)]
    assert got.tolist() == want


def test_saturate_and_requantize_count_as_the_contract_says():
    y, n = ops.saturate([[-9, -8, 7, 8, 2 ** 70]], 4)
    assert y.tolist() == [[-8, -8, 7, 7, 7]] and n == 3 and y.dtype == np.int64
    y, sat, unf = ops.requantize([[1, -1, 2 ** 10, 0, 3]], 2, width=4)
    assert y.tolist() == [[0, 0, 7, 0, 1]] and (sat, unf) == (1, 2)


@pytest.mark.parametrize("backend", [NumpyBackend(), TorchBackend("cpu", fused=True),
                                     TorchBackend("cpu", fused=False)],
                         ids=["numpy", "torch fused", "torch tensors"])
@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("shift", [-2, 0, 7, 33])
def test_backends_are_the_definition(backend, rounding, shift):
    acc = accumulators(50 + shift)
    width = 24
    x = backend.asarray(acc.astype(np.float64))
    got = backend.round_shift(x, shift, rounding, 5, row0=ROW0, col0=COL0)
    want = ops.round_shift(acc, shift, rounding=rounding, seed=5, row0=ROW0, col0=COL0)
    assert backend.to_numpy(got).astype(np.int64).tolist() == want.tolist()
    y, sat, unf = backend.requantize(backend.asarray(acc.astype(np.float64)), shift, width,
                                     rounding, 5, row0=ROW0, col0=COL0)
    wy, wsat, wunf = ops.requantize(acc, shift, width=width, rounding=rounding, seed=5,
                                    row0=ROW0, col0=COL0)
    assert backend.to_numpy(y).astype(np.int64).tolist() == wy.tolist()
    assert (sat, unf) == (wsat, wunf) and (shift < 33 or unf > 0)
    s, n = backend.saturate(backend.asarray(acc.astype(np.float64)), 30)
    ws, wn = ops.saturate(acc, 30)
    assert backend.to_numpy(s).astype(np.int64).tolist() == ws.tolist() and n == wn > 0


def test_fused_kernels_are_the_definition():
    # The numba kernels are callable one element at a time from Python.
    for seed, m, n in [(0, 0, 0), (2 ** 32 - 1, 2 ** 32 - 1, 5), (77, 3, 2 ** 31)]:
        assert fused.prng(seed, m, n) == int(prng(seed, m, n))
    acc = accumulators(7, (1, 40))
    for s in (-2, 0, 1, 10, 30):
        want = ops.round_shift(acc, s).tolist()[0]
        assert [fused.round_shift(int(v), s) for v in acc[0]] == want, s
    ws, _ = ops.saturate(acc, 35)
    got = [fused.saturate(float(v), -2.0 ** 34, 2.0 ** 34 - 1) for v in acc[0]]
    assert got == ws[0].tolist()
    # the kernels number the rounding modes as the contract does
    assert (fused.NEAREST_EVEN, fused.STOCHASTIC) == tuple(Rounding)


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_host_round_shift_is_the_definition(name):
    be = NumpyBackend() if name == "numpy" else TorchBackend("cpu")
    hops = host_ops(be)
    x = accumulators(3, (2, 30)) * 2 ** 20  # int64 state magnitudes, |x| < 2**62
    for s in (-1, 0, 1, 20, 45):
        got = hops.to_host(hops.round_shift(hops.from_host(x), s))
        assert got.tolist() == ops.round_shift(x, s).tolist(), s


def test_torch_generator_is_the_definition():
    got = TorchBackend("cpu").prng_grid(11, 3, 70, row0=ROW0, col0=COL0)
    assert np.array_equal(got.numpy(), prng_grid(11, 3, 70, row0=ROW0, col0=COL0))
    assert got.dtype == torch.int64


def test_every_backend_implements_the_declared_interface():
    import inspect

    from golden.backends import Backend
    members = [n for n, v in vars(Backend).items() if inspect.isfunction(v) and n[0] != "_"]
    assert len(members) == 13
    for be in (NumpyBackend(), TorchBackend("cpu")):
        for n in members:
            want = list(inspect.signature(getattr(Backend, n)).parameters)[1:]
            got = list(inspect.signature(getattr(be, n)).parameters)
            assert got == want, (be.name, n)
