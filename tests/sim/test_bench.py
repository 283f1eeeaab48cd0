"""The benchmark's workload (not its timing): CIFAR-10 GEMM shapes scaled to the array."""

from hw.config import AccelConfig
from sim.bench import CIFAR10_LAYERS, MAX_K, scaled_jobs


def test_scaled_shapes():
    config = AccelConfig.preset("default", rows=4, cols=4)
    named = scaled_jobs(config)
    assert [name for name, _ in named] == [name for name, *_ in CIFAR10_LAYERS]
    for (name, job), (_, m_img, k, n) in zip(named, CIFAR10_LAYERS):
        m2, k2, n2 = job.shape
        assert m2 == min(m_img * 32, 16) and n2 == min(n, 16) and k2 == min(k, MAX_K)
        assert job.a_width == job.b_width == job.out_width == 16
    # Most layers sit in the target region (K >= 64, M and N >= 4x the array).
    assert sum(j.shape[1] >= 64 and j.shape[0] >= 16 and j.shape[2] >= 16
               for _, j in named) >= 3
