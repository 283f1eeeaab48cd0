"""The power flow job by job: the per-job cache (an interrupted run resumes), the order of the
replays, a row's figures and spread from its jobs', the ratios' standard errors, the spread
of trace files, and Icarus compiled once per set of sources."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from flows.eda import power, power_jobs
from flows.eda.breakdown import CATEGORIES
from flows.eda.gatesim import compile_icarus, icarus_available
from flows.eda.power_plan import random_jobs, spread_order
from flows.eda.power_report import markdown, ratio_errors, ratios
from flows.eda.power_spread import ratio_error, row_summary, spread
from hw.config import AccelConfig

SMALL = AccelConfig.preset("small")


def figures(macs, cycles, joules, *, leak=1e-6, category="multipliers"):
    """One job's ``job_figures`` by hand: all of ``joules`` in ``category``."""
    return {"macs": macs, "cycles": cycles, "toggles": 10, "driven_toggles": 4,
            "dynamic_j": {c: joules if c == category else 0.0 for c in CATEGORIES},
            "clock_by_owner_j": {"flops": joules / 10}, "switching_j": joules / 5,
            "internal_j": 4 * joules / 5, "leakage_w": leak}


def test_spread_is_the_sample_statistics():
    s = spread([1.0, 2.0, 3.0, 4.0])
    assert s == {"n": 4, "mean": 2.5, "std": round(math.sqrt(5 / 3), 4)}   # 1.291
    assert spread([2.0]) == {"n": 1, "mean": 2.0, "std": 0.0}


def test_a_row_is_the_ratio_of_sums_and_keeps_each_job():
    # 1 pJ over 100 MACs (0.01 pJ/MAC) and 9 pJ over 300 MACs (0.03 pJ/MAC)
    parts = [figures(100, 10, 1e-12), figures(300, 20, 9e-12, leak=3e-6)]
    row = row_summary(parts, clock_ns=2.0)
    assert row["pj_per_mac"] == 0.025                  # 10 pJ / 400 MACs, not (0.01+0.03)/2
    assert row["per_job_pj_per_mac"] == [0.01, 0.03]
    assert row["spread"] == {"n": 2, "mean": 0.02, "std": round(math.sqrt(2e-4), 4)}
    assert row["by_category_pj_per_mac"]["multipliers"] == 0.025
    assert row["by_category_pj_per_mac"]["clock"] == 0.0
    assert row["switching_pj_per_mac"] == 0.005 and row["internal_pj_per_mac"] == 0.02
    assert row["clock_by_owner_pj_per_mac"] == {"flops": 0.0025}
    # mean leakage 2 uW over 30 cycles of 2 ns = 120 fJ, over 400 MACs
    assert row["leakage_uw"] == 2.0 and row["leakage_pj_per_mac"] == 0.0003
    assert row["toggles"] == 20


def test_ratio_errors_by_hand():
    a = {"pj_per_mac": 2.0, "spread": {"n": 4, "mean": 2.0, "std": 0.4},
         "per_job_pj_per_mac": [1.5, 2.0, 2.0, 2.5]}
    b = {"pj_per_mac": 4.0, "spread": {"n": 4, "mean": 4.0, "std": 0.4},
         "per_job_pj_per_mac": [3.0, 4.0, 4.0, 5.0]}
    # independent: 0.5 * sqrt((0.2 / 2)^2 + (0.2 / 4)^2)
    assert ratio_error(a, b) == round(0.5 * math.sqrt(0.01 + 0.0025), 3)     # 0.056
    # the same jobs: per-job ratios 0.5, 0.5, 0.5, 0.5 -> no spread at all
    assert ratio_error(a, b, paired=True) == 0.0
    assert ratio_error(a, {"pj_per_mac": 4.0}) is None


def row(variant, width, per_job, source="trace"):
    s = spread(per_job)
    return {"variant": variant, "source": source, "width": width, "macs_per_cycle": 10.0,
            "pj_per_mac": s["mean"], "delays": "glitch", "spread": s,
            "by_category_pj_per_mac": dict.fromkeys(CATEGORIES, 0.0),
            "glitch": {"pj_per_mac": s["mean"], "spread": s, "per_job_pj_per_mac": per_job},
            "zero_delay": {"pj_per_mac": s["mean"] / 2}}


def test_the_report_states_each_spread_and_each_source_verdict():
    runs = [row("tunable", 4, [0.4, 0.6]), row("tunable", 8, [1.0, 1.4]),
            row("tunable", 16, [3.0, 5.0]), row("fixed", 16, [3.0, 4.0]),
            row("tunable", 4, [1.0, 1.0], "random"), row("tunable", 16, [4.0, 4.0], "random"),
            row("fixed", 16, [2.0, 2.0], "random")]
    report = {"runs": runs, "ratios": ratios(runs), "ratio_errors": ratio_errors(runs),
              "delays": "glitch"}
    lines = markdown(report).splitlines()
    assert "per job: mean ± sd (n)" in lines[0]
    assert "| tunable | trace | 4 | 10.0 | 0.25 | **0.50** | 0.50 ± 0.14 (2) |" in \
        "\n".join(lines)
    # trace 0.5 / 3.5 = 0.143 +- 0.143 * sqrt((0.1 / 0.5)^2 + (0.5 / 3.5)^2) = 0.035
    assert "| w4_over_fixed_w16 | 0.5 ± 0.0 | 0.143 ± 0.035 | ≤ 0.15: random not met, " \
           "trace met |" in lines
    # the same jobs on both arrays: per-job ratios 1.0 and 1.25 -> sd 0.177 / sqrt(2)
    assert "| tunable_w16_over_fixed_w16 | 2.0 ± 0.0 | 1.143 ± 0.125 | ≤ 1.05: random not " \
           "met, trace not met |" in lines
    assert any(line.startswith("± is the ratio's standard error") for line in lines)


class FakeReplay:
    """``flows.eda.activity.replay`` that counts its calls and fails on call ``fail_at``."""

    def __init__(self, fail_at=None):
        self.calls, self.fail_at = [], fail_at

    def __call__(self, *, config, jobs, work_dir, **_):
        self.calls.append((work_dir.name, int(jobs[0].a[0, 0])))
        if len(self.calls) == self.fail_at:
            raise KeyboardInterrupt
        (job,) = jobs
        return SimpleNamespace(macs=int(np.prod(job.shape)), cycles=100,
                               toggles={1: int(job.a[0, 0]) % 7 + 1})


def flow(tmp_path):
    for variant in ("tunable", "fixed"):
        (tmp_path / variant / "synth").mkdir(parents=True, exist_ok=True)
        (tmp_path / variant / "synth" / "key.txt").write_text(f"netlist of {variant}")
    clocks = {v: {"period_ns": 2.0} for v in ("tunable", "fixed")}
    return power._Flow(work=tmp_path, library_name="nangate45", build_dir=tmp_path,
                       lib_path=None, library=None, slew=1e-11, wire="library", clocks=clocks,
                       steps=lambda what: None, driven={"tunable": [1], "fixed": [1]})


def test_an_interrupted_run_resumes_from_the_cache(tmp_path, monkeypatch):
    def energy(*, toggles, **_):
        joules = toggles[1] * 1e-12
        return SimpleNamespace(dynamic={c: joules if c == "clock" else 0.0 for c in CATEGORIES},
                               clock_by_owner={}, switching={"clock": joules},
                               internal={"clock": 0.0}, total_leakage=0.0)
    monkeypatch.setattr("flows.eda.energy.compute_energy", energy)
    runs = [("tunable", "random", w, random_jobs(SMALL, w, seed=w, count=3)) for w in (4, 8)]
    variants = {"tunable": SMALL}
    first = FakeReplay(fail_at=5)
    monkeypatch.setattr("flows.eda.activity.replay", first)
    with pytest.raises(KeyboardInterrupt):
        flow(tmp_path).replay(runs, variants, {"tunable": None}, {}, modes=("zero_delay",))
    # job 1 of every row, then job 2 of every row: the fifth call (job 3 of W = 4) is cut off
    first_of = [int(j.a[0, 0]) for j in (runs[0][3][0], runs[1][3][0], runs[0][3][1],
                                         runs[1][3][1], runs[0][3][2])]
    assert [c[1] for c in first.calls] == first_of
    again = FakeReplay()
    monkeypatch.setattr("flows.eda.activity.replay", again)
    rows, _ = flow(tmp_path).replay(runs, variants, {"tunable": None}, {},
                                    modes=("zero_delay",))
    assert [c[1] for c in again.calls] == [int(runs[0][3][2].a[0, 0]),
                                           int(runs[1][3][2].a[0, 0])]   # only the 2 missing
    want = [[(int(j.a[0, 0]) % 7 + 1) * 1e12 / np.prod(j.shape) * 1e-12 for j in jobs]
            for *_, jobs in runs]
    for r, w in zip(rows, want):
        assert r["zero_delay"]["per_job_pj_per_mac"] == [round(x, 4) for x in w]
        assert r["spread"]["n"] == 3 and r["jobs"] == 3 and r["cycles"] == 300


def test_the_cache_key_names_what_the_figure_depends_on():
    job = random_jobs(SMALL, 8, seed=8, count=1)[0]
    other = random_jobs(SMALL, 8, seed=9, count=1)[0]
    base = {"config": SMALL, "job": job, "netlist_key": "n", "mode": "glitch", "clock_ns": 2.0,
            "slew": 1e-11, "wire": "library"}
    key = power_jobs.job_key(**base)
    assert key == power_jobs.job_key(**base)
    for change in ({"job": other}, {"netlist_key": "m"}, {"mode": "zero_delay"},
                   {"clock_ns": 2.5}, {"slew": 2e-11}, {"wire": "none"}):
        assert power_jobs.job_key(**{**base, **change}) != key, change


def test_trace_files_are_spread_so_that_fewer_are_a_prefix_of_more():
    assert spread_order(17)[:5] == [0, 16, 8, 4, 12]
    assert spread_order(3) == [0, 2, 1] and spread_order(1) == [0]
    for n in range(1, 40):
        assert sorted(spread_order(n)) == list(range(n))


@pytest.mark.skipif(not icarus_available(), reason="needs Icarus Verilog")
def test_icarus_compiles_once_per_set_of_sources(tmp_path):
    src = tmp_path / "t.v"
    src.write_text("module t; initial $display(\"one\"); endmodule\n")
    vvp = compile_icarus([str(src)], top="t", work=tmp_path)
    vvp.write_bytes(vvp.read_bytes())       # a recompile would rewrite it; a reuse does not
    mark = vvp.stat().st_mtime_ns
    assert compile_icarus([str(src)], top="t", work=tmp_path).stat().st_mtime_ns == mark
    src.write_text("module t; initial $display(\"two\"); endmodule\n")
    compile_icarus([str(src)], top="t", work=tmp_path)
    assert vvp.stat().st_mtime_ns != mark
