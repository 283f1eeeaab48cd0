"""The int8-piece route for 16-bit GEMMs (golden.int8_gemm): exact on random and extreme values,
with and without the offset split, across K-chunks and blocks, and the torch backend's GEMMs
and convolutions through it equal NumPy's bits."""

import numpy as np
import pytest
import torch

from golden import int8_gemm
from golden.backend_numpy import NumpyBackend
from golden.backend_torch import TorchBackend, im2col

LO, HI = -(1 << 15), (1 << 15) - 1
SIGNED_MAX = 32639      # the largest value whose offset-free split fits int8 (written out here)
EXTREMES = np.array([LO, HI, SIGNED_MAX, SIGNED_MAX + 1, -1, 0, 255, -256, 128, -129])


def exact_product(a, b):
    """a @ b in Python integers (no int64 or float shortcut)."""
    return np.array([[sum(int(x) * int(y) for x, y in zip(row, col)) for col in b.T] for row in a],
                    dtype=object)


def operand(rng, shape, upper):
    """Random integers in [LO, upper], the first entries the extremes in range."""
    x = rng.integers(LO, upper + 1, shape)
    ext = EXTREMES[EXTREMES <= upper]
    x.reshape(-1)[:len(ext)] = ext[:x.size]
    return x


@pytest.mark.parametrize("off", [0, 128])
def test_every_16_bit_value_splits_into_int8_pieces(off):
    top = SIGNED_MAX if off == 0 else HI
    x = torch.arange(LO, top + 1, dtype=torch.float32)
    h, low = int8_gemm.pieces(x, off)
    assert h.dtype == low.dtype == torch.int8
    assert torch.equal(256 * h.long() + low.long() + off, x.long())
    tensors = torch.empty((2,) + x.shape, dtype=torch.int8)   # what a GPU runs
    int8_gemm._pieces_tensors(x, off, tensors)
    assert torch.equal(tensors, torch.stack([h, low]))
    assert int8_gemm.offset(top) == off
    # one past the signed split: h would be 128, which int8 cannot hold
    assert int8_gemm.offset(SIGNED_MAX + 1) == 128


@pytest.mark.parametrize("off", [0, 128])
@pytest.mark.parametrize("c", [3, 8])
def test_padded_pieces_and_their_patches_equal_the_tensor_code(off, c):
    # the CPU kernels (numba; 8-byte words for C = 8) against what a GPU runs: padding x with
    # zeros, then splitting, then backend_torch.im2col of each piece
    rng = np.random.default_rng(c + off)
    x = torch.from_numpy(operand(rng, (2, 5, 4, c), SIGNED_MAX + off).astype(np.float32))
    got = int8_gemm.pieces(x, off, pad=2)
    want = torch.empty_like(got)
    int8_gemm._pieces_tensors(torch.nn.functional.pad(x, (0, 0, 2, 2, 2, 2)), off, want)
    assert torch.equal(got, want)
    assert got[1, 0, 0, 0, 0] == -off                      # a border zero is x = 0
    rows = 2 * 2 * 7 * 6
    patches = int8_gemm._patches(got, torch.empty((rows, 9 * c), dtype=torch.int8))
    assert torch.equal(patches, im2col(got.reshape(4, 9, 8, c), 0)[0])


@pytest.mark.parametrize("ua,ub", [(SIGNED_MAX, SIGNED_MAX), (HI, SIGNED_MAX), (SIGNED_MAX, HI),
                                   (HI, HI), (300, 7)])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 37, 3), (12, 300, 9)])
def test_random_16_bit_products_are_exact(m, k, n, ua, ub):
    rng = np.random.default_rng(k + ua + ub)
    a, b = operand(rng, (m, k), ua), operand(rng, (k, n), ub)
    got = int8_gemm.int_matmul(torch.from_numpy(a).double(), torch.from_numpy(b).double(),
                               a_bound=ua, b_bound=ub)
    assert got.dtype == torch.float64
    assert (got.numpy().astype(np.int64).astype(object) == exact_product(a, b)).all()


@pytest.mark.parametrize("k", [int8_gemm.CHUNK, int8_gemm.CHUNK + 1, 4 * int8_gemm.CHUNK + 5])
def test_extremes_at_and_across_k_chunks(k):
    # every combination of the extremes; (-2**15)**2 = 2**30 per term: one int32 chunk of 2**17
    # such terms would wrap, and K = CHUNK + 1 puts a single term in the last chunk
    col = np.resize(EXTREMES, k)
    a = np.stack([np.full(k, LO), np.full(k, HI), col, -col - 1])
    b = np.stack([np.full(k, LO), np.full(k, HI), col[::-1].copy()], axis=1)
    got = int8_gemm.int_matmul(torch.from_numpy(a).float(), torch.from_numpy(b).float(),
                               a_bound=HI, b_bound=HI).numpy().astype(np.int64)
    want = [[sum(int(x) * int(y) for x, y in zip(a[i], b[:, j])) for j in range(3)]
            for i in range(4)]
    assert got.tolist() == want
    assert got[0, 0] == k << 30


def test_a_single_row_view_of_a_transpose():
    # (1, 2) with strides (1, 1): "contiguous" to torch, misread by the CPU _int_mm (found here)
    a = torch.tensor([[1.0], [2.0]]).T
    got = int8_gemm.int_matmul(a, torch.tensor([[3.0], [4.0]]), a_bound=2, b_bound=4)
    assert got.tolist() == [[11.0]]


def test_upper_bounds():
    k, big = 9, 1 << 15
    neg = torch.full((2, 3), float(LO))
    assert int8_gemm.upper_bounds(k, neg, big, neg, 5) == (HI, 5)     # -2**15 only: fine
    pos = torch.tensor([[float(big)]])
    assert int8_gemm.upper_bounds(k, pos, big, neg, 5) is None         # +2**15 has no pieces
    assert int8_gemm.upper_bounds(k, neg, big + 1, neg, 5) is None
    assert int8_gemm.upper_bounds(1 << 22, neg, HI, neg, HI) is None   # 2*2**22*(2**15+128)**2 > 2**53
    assert int8_gemm.upper_bounds((1 << 21) - 1, neg, HI, neg, HI) == (HI, HI)


def test_the_tensor_recombination_equals_the_cpu_kernel():
    # the recombination that a GPU runs, checked on the CPU against the numba kernel
    rng = np.random.default_rng(3)
    r0, r1 = (torch.from_numpy(rng.integers(-(1 << 29), 1 << 29, (2, 5, 7)).astype(np.int32))
              for _ in range(2))
    for add in (False, True):
        base = torch.from_numpy(rng.integers(-(1 << 40), 1 << 40, (5, 7)).astype(np.float64))
        cpu, tensors = base.clone(), base.clone()
        int8_gemm._combine(r0, r1, cpu, add=add)
        int8_gemm._combine_tensors(r0, r1, tensors, add=add)
        want = (r0[0].long() * 65536 + (r1[0].long() + r0[1].long()) * 256 + r1[1].long()
                + (base.long() if add else 0))
        assert torch.equal(cpu.long(), want) and torch.equal(tensors.long(), want)


def count_calls(monkeypatch):
    calls = []
    for name in ("int_matmul", "conv", "conv_weight"):
        real = getattr(int8_gemm, name)
        monkeypatch.setattr(int8_gemm, name,
                            lambda *a, _real=real, _name=name, **kw: calls.append(_name)
                            or _real(*a, **kw))
    return calls


def backend_job(op, rng, ua, ub, pad):
    """Arguments of a small ``op`` job with x in [LO, ua] and the other operand in [LO, ub]."""
    x = operand(rng, (3, 6, 5, 4), ua).astype(np.float32)
    ho, wo = 6 + 2 * pad - 2, 5 + 2 * pad - 2
    if op == "accumulate":
        return (x.reshape(3 * 6, 20)[:, :19], operand(rng, (19, 7), ub).astype(np.float32)), {}
    if op == "conv":
        return (x, operand(rng, (36, 5), ub).astype(np.float32)), {"pad": pad}
    return (x, operand(rng, (3 * ho * wo, 5), ub).astype(np.float32)), {"pad": pad}


@pytest.mark.parametrize("op", ["accumulate", "conv", "conv_weight"])
@pytest.mark.parametrize("ua,ub,pad", [(SIGNED_MAX, SIGNED_MAX, 1), (HI, SIGNED_MAX, 0),
                                       (SIGNED_MAX, HI, 2), (HI, HI, 1)])
@pytest.mark.parametrize("blocks", ["one", "per image", "tiny chunks"])
def test_torch_backend_takes_the_route_with_numpys_bits(monkeypatch, op, ua, ub, pad, blocks):
    if blocks == "per image":     # one image per block: the blocks' sums add up
        monkeypatch.setattr(int8_gemm, "BLOCK_BYTES", 1)
    elif blocks == "tiny chunks":  # K-chunks of 16 terms: the convolutions' fallbacks
        monkeypatch.setattr(int8_gemm, "CHUNK", 16)
    calls = count_calls(monkeypatch)
    args, kw = backend_job(op, np.random.default_rng(ua + ub + pad), ua, ub, pad)
    kw.update(a_bound=ua, b_bound=ub)
    want = getattr(NumpyBackend(), op)(*args, **kw)
    got = getattr(TorchBackend("cpu"), op)(*map(torch.from_numpy, args), **kw)
    assert calls, "the int8 route was not taken"
    assert want.dtype == np.float64 and got.dtype == torch.float64
    assert np.array_equal(got.numpy(), want)


def test_a_16_bit_input_with_minus_2_to_the_15_takes_the_route(monkeypatch):
    # an input image's exact maximum |x| is 2**15, reached by -2**15 only
    calls = count_calls(monkeypatch)
    rng = np.random.default_rng(5)
    x = operand(rng, (2, 5, 5, 3), HI).astype(np.float32)
    x[0, 0, 0, 0] = LO
    w = operand(rng, (27, 4), HI).astype(np.float32)
    kw = {"pad": 1, "a_bound": 1 << 15, "b_bound": HI}
    want = NumpyBackend().conv(x, w, **kw)
    got = TorchBackend("cpu").conv(torch.from_numpy(x), torch.from_numpy(w), **kw)
    assert calls == ["conv"] and np.array_equal(got.numpy(), want)


def test_float64_is_kept_when_asked_or_when_a_value_may_be_2_to_the_15(monkeypatch):
    calls = count_calls(monkeypatch)
    a = torch.full((3, 4), float(LO))
    TorchBackend("cpu", int8=False).accumulate(a, a.T, a_bound=HI, b_bound=HI)
    b = torch.full((4, 3), float(1 << 15))
    got = TorchBackend("cpu").accumulate(a, b, a_bound=1 << 15, b_bound=1 << 15)
    assert not calls
    assert got.tolist() == [[float(-(1 << 32))] * 3] * 3
