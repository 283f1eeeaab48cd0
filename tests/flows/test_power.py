"""The power command's inputs: trace jobs, refusals, ratios and the analytical reference."""

import json

import numpy as np
import pytest

from flows.cli import main
from flows.eda import activity
from flows.eda.power_plan import clocks_for, trace_jobs
from flows.eda.power_report import markdown, ratios
from flows.eda.variants import variant_configs
from flows.horowitz import integer_mac_pj
from golden import GemmJob
from hw.config import AccelConfig

SMALL = AccelConfig.preset("small")


def job(m, k, n, width, **kw):
    rng = np.random.default_rng(0)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    fields = dict(a_width=width, a_frac=2, b_width=width, b_frac=3, out_width=width,
                  out_frac=1)
    fields.update(kw)
    return GemmJob(a=rng.integers(lo, hi, (m, k)), b=rng.integers(lo, hi, (k, n)), **fields)


def test_trace_jobs_are_read_per_width_and_cropped(tmp_path):
    (tmp_path / "traces" / "w8").mkdir(parents=True)
    big = job(50, 300, 20, 8)
    big.save(tmp_path / "traces" / "w8" / "a.npz")
    job(3, 5, 2, 8).save(tmp_path / "traces" / "w8" / "b.npz")
    got = trace_jobs(tmp_path, SMALL, per_width=5)
    assert list(got) == [8]
    cropped, small = got[8]
    assert cropped.shape == (4, 256, 4)                  # one output tile, K <= max_k
    rows = [0, 16, 33, 49]                                # evenly spaced over M = 50
    ks = np.linspace(0, 299, 256).round().astype(int)
    np.testing.assert_array_equal(cropped.a, big.a[np.ix_(rows, ks)])
    np.testing.assert_array_equal(cropped.b[:, 0], big.b[ks, 0])
    np.testing.assert_array_equal(cropped.b[0, -1], big.b[0, 19])
    assert cropped.shift == big.shift and small.shape == (3, 5, 2)
    (one,) = trace_jobs(tmp_path / "traces", SMALL, per_width=1)[8]
    assert one.shape == (4, 256, 4)                      # the first file of the spread


def test_trace_jobs_gather_training_runs(tmp_path):
    for width in (4, 8):
        (tmp_path / f"fixed-{width}" / "traces" / f"w{width}").mkdir(parents=True)
        job(3, 5, 2, width).save(tmp_path / f"fixed-{width}" / "traces" / f"w{width}" / "j.npz")
    got = trace_jobs(tmp_path, SMALL, per_width=2)
    assert sorted(got) == [4, 8] and got[4][0].a_width == 4 and len(got[8]) == 1


def test_trace_jobs_refusals(tmp_path):
    with pytest.raises(ValueError, match="--jobs: .* is not a directory"):
        trace_jobs(tmp_path / "nope", SMALL, per_width=1)
    with pytest.raises(ValueError, match=r"--jobs: no job files in .*/w<W>/ for widths "
                                         r"4, 8, 12, 16"):
        trace_jobs(tmp_path, SMALL, per_width=1)
    (tmp_path / "w8").mkdir()
    job(2, 2, 2, 6).save(tmp_path / "w8" / "odd.npz")
    with pytest.raises(ValueError, match=r"odd.npz: a_width 6 is not supported"):
        trace_jobs(tmp_path, SMALL, per_width=1)


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "{tmp}/missing"], "--jobs: {tmp}/missing is not a directory"),
    (["--jobs-per-width", "0"], "--jobs-per-width must be at least 1, not 0"),
    (["--random-jobs", "-1"], "--random-jobs must be at least 1, not -1"),
    (["--variants", "tunable,wide"], "--variants must be a comma-separated list of tunable, "
                                     "gated, fixed, not 'tunable,wide'"),
    (["--rows", "0"], "bad accelerator configuration: rows must be in [1, 64], not 0"),
    (["--clock-ns", "0"], "--clock-ns must be between 0.05 and 1000, not 0.0"),
    (["--timing", "{tmp}/none.json"],
     "--timing: cannot read {tmp}/none.json: No such file or directory"),
    (["--timing", "{tmp}/t.json"], "--timing: {tmp}/t.json: no nangate45 4x4 gated entry for "
                                   "this configuration"),
])
def test_power_command_refuses_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path) for a in argv]
    (tmp_path / "t.json").write_text(json.dumps({"runs": [   # tunable and fixed, no gated
        {"library": "nangate45", "array": "4x4", "variant": v, "period_ns": 3.0,
         "delay_target_ps": 2500, "config": cfg.params()}
        for v, cfg in (("tunable", SMALL), ("fixed", SMALL.__class__.preset(
            "small", tunable=False)))]}))
    assert main(["power", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"varimac power: error: {message.format(tmp=tmp_path)}"]
    assert not out.exists()


def test_missing_liberty_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VARIMAC_LIBERTY", str(tmp_path))
    assert main(["power", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"varimac power: error: --liberty: liberty file "
                   f"{tmp_path}/nangate45_typ.lib.gz not found (VARIMAC_LIBERTY={tmp_path})")
    assert not (tmp_path / "out").exists()


def test_ratios_against_the_targets():
    runs = [{"variant": "tunable", "source": "random", "width": w, "pj_per_mac": e}
            for w, e in ((4, 0.5), (8, 1.0), (12, 2.0), (16, 4.0))]
    runs.append({"variant": "fixed", "source": "random", "width": 16, "pj_per_mac": 3.5})
    r = ratios(runs)["random"]
    assert r["w4_over_w16"] == 0.125 and r["w8_over_w16"] == 0.25
    assert r["w4_over_fixed_w16"] == round(0.5 / 3.5, 3)      # 0.143
    assert r["w8_over_fixed_w16"] == round(1.0 / 3.5, 3)      # 0.286
    assert r["w4_over_w8"] == 0.5
    assert r["tunable_w16_over_fixed_w16"] == round(4.0 / 3.5, 3)
    assert r["met"] == {"w4_over_fixed_w16": True, "w8_over_fixed_w16": True,
                        "w4_over_w8": False, "tunable_w16_over_fixed_w16": False}


def test_ratios_pick_the_simulation():
    runs = [{"variant": v, "source": "random", "width": w, "pj_per_mac": g,
             "zero_delay": {"pj_per_mac": z}, "glitch": {"pj_per_mac": g}}
            for v, w, z, g in (("tunable", 4, 1.0, 1.2), ("tunable", 16, 4.0, 6.0),
                               ("fixed", 16, 4.0, 5.0))]
    assert ratios(runs, mode="zero_delay")["random"]["w4_over_fixed_w16"] == 0.25
    assert ratios(runs, mode="glitch")["random"]["w4_over_fixed_w16"] == 0.24
    assert ratios(runs)["random"]["tunable_w16_over_fixed_w16"] == 1.2


def test_ratios_keep_the_gated_variant_apart():
    runs = [{"variant": v, "source": "trace", "width": w, "pj_per_mac": e}
            for v, w, e in (("tunable", 4, 0.4), ("tunable", 16, 4.0), ("gated", 4, 1.2),
                            ("gated", 16, 3.0), ("fixed", 16, 3.2))]
    r = ratios(runs)["trace"]
    assert r["w4_over_w16"] == 0.1 and r["gated_w4_over_w16"] == 0.4
    assert r["gated_w4_over_fixed_w16"] == round(1.2 / 3.2, 3)
    assert r["gated_tunable_w16_over_fixed_w16"] == round(3.0 / 3.2, 3)
    # Only the tunable array's ratios are held against the targets.
    assert r["met"] == {"w4_over_fixed_w16": True, "tunable_w16_over_fixed_w16": False}


def test_horowitz_scaling_by_hand():
    # 8 bits: his 8-bit multiply (0.2) + a 32-bit add (0.1); 16 bits: 3.1 * (16/32)^2 + 0.1
    assert integer_mac_pj(8, 32) == pytest.approx(0.3)
    assert integer_mac_pj(16, 32) == pytest.approx(0.775 + 0.1)
    assert integer_mac_pj(4, 64) == pytest.approx(0.05 + 0.2)


def test_markdown_tables():
    cats = {"multipliers": 1.0, "accumulators": 0.5, "lane_registers": 0.25, "clock": 2.0,
            "quantizer": 0.125, "control": 0.0, "other": 0.0}
    runs = [{"variant": v, "source": "random", "width": w, "macs_per_cycle": mpc,
             "pj_per_mac": e, "by_category_pj_per_mac": cats, "delays": "glitch",
             "zero_delay": {"pj_per_mac": e / 2}, "glitch": {"pj_per_mac": e}}
            for v, w, mpc, e in (("fixed", 16, 16.0, 3.5), ("tunable", 16, 16.0, 4.0),
                                 ("tunable", 4, 64.0, 0.5))]
    text = markdown({"runs": runs, "ratios": ratios(runs), "delays": "glitch",
                     "ratios_zero_delay": ratios(runs, mode="zero_delay")})
    lines = text.splitlines()
    assert lines[0].startswith("| array | jobs | W | MACs/cycle | zero-delay pJ/MAC | "
                               "glitch-aware pJ/MAC | mult |")
    # tunable rows first, narrow widths first, then the fixed array; the headline in bold
    assert lines[2] == ("| tunable | random | 4 | 64.0 | 0.25 | **0.50** | 1.00 | 0.50 | 0.25 "
                        "| 2.00 | 0.12 | 0.00 |")
    assert lines[4].startswith("| fixed | random | 16 | 16.0 | 1.75 | **3.50** |")
    assert "| ratio | random | random (zero-delay) | target |" in lines
    assert "| w4_over_fixed_w16 | 0.143 | 0.143 | ≤ 0.15: met |" in lines
    assert "| tunable_w16_over_fixed_w16 | 1.143 | 1.143 | ≤ 1.05: not met |" in lines


def test_markdown_opensta_steps():
    steps = {"flow": 100.0, "activities": 110.0, "data_slews": 110.0, "clock_slews": 220.0,
             "rule": 440.0, "opensta": 440.0}
    side = {"internal": 100.0, "switching": 50.0, "leakage": 10.0, "total": 160.0}
    check = {"activity": 0.5, "flow": side, "ratio": dict.fromkeys(side, 1.0),
             "opensta": {**side, "internal": 440.0, "total": 500.0},
             "internal_steps": steps,
             "total_steps": {k: v + 60.0 for k, v in steps.items()}}
    lines = markdown({"runs": [], "ratios": {}, "opensta": {"tunable": check}}).splitlines()
    assert ("| tunable | internal | 100.0 | 110.0 (×1.1000) | 110.0 (×1.0000) | 220.0 (×2.0000) "
            "| 440.0 (×2.0000) | 440.0 (×1.0000) |") in lines
    assert ("| tunable | total | 160.0 | 170.0 (×1.0625) | 170.0 (×1.0000) | 280.0 (×1.6471) "
            "| 500.0 (×1.7857) | 500.0 (×1.0000) |") in lines


def test_unknown_gate_simulator_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VARIMAC_GATESIM", "modelsim")
    assert main(["power", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        "varimac power: error: VARIMAC_GATESIM must be one of icarus, verilator, not 'modelsim'")
    assert not (tmp_path / "out").exists()


def test_glitches_without_icarus_are_refused(tmp_path, capsys, monkeypatch):
    from flows.eda import gatesim
    monkeypatch.setenv("VARIMAC_GATESIM", "verilator")
    monkeypatch.setattr(gatesim, "icarus_available", lambda: False)
    assert main(["power", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        "varimac power: error: the glitch-aware simulation needs Icarus Verilog (iverilog); "
        "--no-glitches measures the zero-delay energy alone")
    assert not (tmp_path / "out").exists()


def test_clock_comes_from_the_timing_result_or_stays_10_ns():
    variants = variant_configs(SMALL)
    timing = [{"library": "sky130", "array": "4x4", "variant": v, "period_ns": p,
               "delay_target_ps": 2500, "config": variants[v].params()}
              for v, p in (("tunable", 7.25), ("gated", 6.5), ("fixed", 4.125))]
    got = clocks_for(variants, library_name="sky130", timing=timing)
    # one clock for all: the longest period met; each keeps its own beside it
    assert {v: c["period_ns"] for v, c in got.items()} == \
        {"tunable": 7.25, "gated": 7.25, "fixed": 7.25}
    assert {v: c["met_ns"] for v, c in got.items()} == \
        {"tunable": 7.25, "gated": 6.5, "fixed": 4.125}
    assert {c["delay_target_ps"] for c in got.values()} == {2500}
    default = clocks_for(variants, library_name="sky130")
    assert {c["period_ns"] for c in default.values()} == {10}
    assert {c["delay_target_ps"] for c in default.values()} == {None}
    with pytest.raises(ValueError, match="no nangate45 4x4 tunable entry"):
        clocks_for(variants, library_name="nangate45", timing=timing)


def test_testbench_runs_at_the_given_period():
    ports = {p: ("input", 8) for p in (
        "clk", "rst", "cmd__payload", "cmd__valid", "cmd__ready", "a__payload", "a__valid",
        "a__ready", "b__payload", "b__valid", "b__ready", "y__payload", "y__valid", "y__ready",
        "busy", "done", "error", "saturated", "underflow")}
    default = activity.testbench(top="t", ports=ports)
    assert "`timescale" not in default and "always #5.0 clk" in default
    assert "#1 cmd__valid = 0" in default
    fast = activity.testbench(top="t", ports=ports, clock_ns=2.5)
    assert fast.startswith("`timescale 1ns/1ps") and "always #1.25 clk" in fast
    assert "#0.625 cmd__valid = 0" in fast and "#0.625;" in fast
