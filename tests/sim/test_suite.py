"""The RTL suite (``sim.suite``) on every implementation of the accelerator: the Amaranth
design in amaranth.sim (``sim.amaranth_tb.TB``) and its generated Verilog under cocotb
(``sim.tb.TB``) on Icarus and Verilator; every output and both counters against
``golden.gemm``, bit for bit. The simulators run the quick regression (``varimac sim
--quick``, one run each); the full one is ``make sim``."""

import shutil

import pytest

from hw.config import AccelConfig
from sim import suite
from sim.amaranth_tb import run
from sim.regression import run_regression

TINY = AccelConfig.preset("tiny")
# The simulators' runs are slow: a C++ build for Verilator, the whole suite on each.
IMPLEMENTATIONS = ("amaranth", pytest.param("icarus", marks=pytest.mark.slow),
                   pytest.param("verilator", marks=pytest.mark.slow))


@pytest.fixture(scope="module")
def rtl_root(tmp_path_factory):
    return tmp_path_factory.mktemp("build") / "rtl"


@pytest.fixture(scope="module")
def regressions(rtl_root, tmp_path_factory):
    """``{simulator: summary}``, each quick regression run once, when first asked for."""
    done = {}

    def summary(sim):
        if sim not in done:
            done[sim] = run_regression(TINY, tmp_path_factory.mktemp(sim), sim=sim,
                                       quick=True, build_root=rtl_root)
        return done[sim]
    return summary


@pytest.mark.parametrize("scenario", suite.SCENARIOS)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_scenario(implementation, scenario, regressions):
    if implementation == "amaranth":
        run(TINY, lambda tb: getattr(suite, scenario)(tb, quick=True),
            seed=suite.SEEDS[scenario])
        return
    if implementation == "icarus" and shutil.which("iverilog") is None:
        pytest.skip("optional extra: Icarus Verilog is not installed")
    summary = regressions(implementation)
    assert summary["tests"][scenario] == "pass", summary["log"]
    assert summary["jobs_per_scenario"][scenario] > 0
    assert summary["jobs"] == summary["exact"]


@pytest.mark.slow
def test_regression_summary(regressions):
    """The summary counts what the suite ran (on whichever simulator ran first)."""
    summary = regressions("icarus" if shutil.which("iverilog") else "verilator")
    assert summary["tests"] == {name: "pass" for name in suite.SCENARIOS}, summary["log"]
    assert summary["failed"] == 0
    assert summary["jobs_per_scenario"]["widths"] == len(TINY.widths) ** 3 * 2
