"""The generator's sweep (``make sim``) and the edges of what the generator builds.

Every end of ``AccelConfig``'s ranges was built and verified by trying (``varimac sim --sweep``
runs those configurations); what lies beyond the ranges is refused by ``AccelConfig`` with an
exact message. These tests check both halves without a simulator: the sweep reaches every end,
and each step past one is refused.
"""

import json

import pytest

from hw.config import SHIFT_LIMIT, AccelConfig
from hw.job_check import JobError
from sim import random_jobs, sweep
from sim.fast import Outcome
from tests.support.paths import REPO

CONFIGS = {name: AccelConfig(**fields) for name, fields in sweep.CONFIGS.items()}


def test_the_sweep_spans_the_generator():
    configs = list(CONFIGS.values())
    assert len(configs) >= 20
    assert {c.rows for c in configs} >= set(range(1, 9)) - {7}
    assert any(c.rows != c.cols for c in configs) and any(c.rows == c.cols == 8 for c in configs)
    assert {c.max_width for c in configs} >= {2, 6, 8, 12, 16, 32}
    assert {c.lane_width for c in configs} >= {2, 3, 4, 8, 32}
    assert {c.max_k for c in configs} >= {1, 4096, 1 << 24}
    assert {(c.tunable, c.subword) for c in configs} == {(True, True), (True, False),
                                                         (False, False)}
    assert {c.min_shift for c in configs} >= {-SHIFT_LIMIT}
    assert {c.max_shift for c in configs} >= {SHIFT_LIMIT}
    assert max(c.max_dim for c in configs) == (1 << 32) - 1


@pytest.mark.parametrize("fields, exc, message", [
    (dict(rows=65, cols=1), ValueError, "rows must be in [1, 64], not 65"),
    (dict(rows=1, cols=65), ValueError, "cols must be in [1, 64], not 65"),
    (dict(rows=1, cols=1, max_width=2, lane_width=1), ValueError,
     "lane_width must be in [2, 32], not 1"),
    (dict(rows=1, cols=1, max_width=36, lane_width=4), ValueError,
     "max_width must be in [4, 32], not 36"),
    (dict(rows=1, cols=1, max_width=16, lane_width=6), ValueError,
     "max_width (16) must be a multiple of lane_width (6)"),
    (dict(rows=1, cols=1, max_k=(1 << 24) + 1), ValueError,
     "max_k must be in [1, 16777216], not 16777217"),
    (dict(rows=1, cols=1, max_dim=1 << 32), ValueError,
     "max_dim must be in [1, 4294967295], not 4294967296"),
    (dict(rows=1, cols=1, min_shift=-SHIFT_LIMIT - 1), ValueError,
     "min_shift must be in [-512, 512], not -513"),
    (dict(rows=1, cols=1, max_shift=SHIFT_LIMIT + 1), ValueError,
     "max_shift must be in [-512, 512], not 513"),
])
def test_what_the_generator_cannot_build_is_refused(fields, exc, message):
    with pytest.raises(exc) as info:
        AccelConfig(**fields)
    assert str(info.value) == message


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_configuration_has_its_edges(name):
    """Each configuration's range edges: every JobError the configuration can meet, and the
    host side agrees with the array's verdict on each."""
    c = CONFIGS[name]
    edges = random_jobs.edge_items(c)
    codes = {int(e) for _, _, e in edges}
    want = {int(e) for e in JobError} - ({1, 2, 3} if c.widths == (2,) else set())
    assert codes >= want - ({int(JobError.N)} if c.max_dim == (1 << 32) - 1 else set())
    # The host side's verdict on each, as check_edges sees it against a perfect array.
    perfect = [Outcome(error=int(e), saturated=0, underflow=0, cycles=1) for _, _, e in edges]
    failures = sweep.check_edges(c, [x for x in edges if x[2]], [o for o in perfect if o.error])
    assert failures == []
    wrong = [Outcome(error=int(JobError.K) if e != JobError.K else int(JobError.M), saturated=0,
                     underflow=0, cycles=1) for _, _, e in edges if e]
    assert len(sweep.check_edges(c, [x for x in edges if x[2]], wrong)) == len(wrong)


def test_committed_results_are_their_renderings():
    """results/sim/*/summary.md and results/bench/sim.md (quoted by docs/hardware.md) are the
    renderings of the committed JSON, which records real runs without a mismatch."""
    from sim import bench_fast, verify
    root = REPO / "results"
    random = json.loads((root / "sim/random-default/summary.json").read_text())
    assert (root / "sim/random-default/summary.md").read_text() == verify.markdown(random)
    assert random["jobs"] == 10000 and random["mismatches"] == 0
    swept = json.loads((root / "sim/sweep/summary.json").read_text())
    assert (root / "sim/sweep/summary.md").read_text() == sweep.markdown(swept)
    assert len(swept["configs"]) >= 20 and swept["mismatches"] == swept["edge_failures"] == 0
    bench = json.loads((root / "bench/sim.json").read_text())
    assert (root / "bench/sim.md").read_text() == bench_fast.markdown(bench)
