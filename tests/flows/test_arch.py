"""``varimac arch`` (flows.eda.archvariants): refusals, the variants' configurations, and the ratios
and tables from hand-made entries. The flow itself is the power and timing flows' (tested
there); its result is committed in results/arch/."""

import pytest

from flows.eda.archvariants import markdown, ratios, replays, variant_config
from flows.cli import main
from hw.config import AccelConfig
from tests.support.paths import REPO


@pytest.mark.parametrize("argv, message", [
    (["--variants", "current,wallace"],
     "--variants: wallace not among current,plain,folded,valid_gating,zero_gating,"
     "register_gates,fused2d,fixed"),
    (["--jobs-per-width", "0"], "--jobs-per-width must be at least 1, not 0"),
    (["--widths", "16,6"], "--widths must be a list of 4,8,12,16, not '16,6'"),
    (["--period", "0"], "--period must be between 0.05 and 1000, not 0.0"),
    (["--fixed-width"], "varimac arch compares variants of a tunable array: drop "
                        "--fixed-width (the fixed array is the 'fixed' variant)"),
])
def test_arch_command_refuses_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["arch", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"varimac arch: error: {message}"]
    assert not out.exists()


def test_arch_command_refuses_a_folder_without_traces(tmp_path, capsys):
    out, empty = tmp_path / "out", tmp_path / "traces"
    empty.mkdir()
    assert main(["arch", "--out", str(out), "--jobs", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"varimac arch: error: --jobs: no job files in {empty}/w<W>/ for widths "
                   "4, 8, 12, 16"]
    assert not out.exists()


def test_replays_add_traces_at_the_variants_widths():
    base = AccelConfig.preset("small")
    traces = {16: ["j16"], 4: ["j4"]}
    assert replays(base, (16, 8, 4), traces) == [
        ("random", 16, None), ("trace", 16, ["j16"]), ("random", 8, None),
        ("random", 4, None), ("trace", 4, ["j4"])]
    assert replays(variant_config(base, "fixed"), (16, 8, 4), traces) == [
        ("random", 16, None), ("trace", 16, ["j16"])]
    assert replays(base, (8,), None) == [("random", 8, None)]


def test_variants_change_only_their_fields():
    base = AccelConfig.preset("small")
    plain = dict(base.params(), mult_tree="split", valid_gating=False, zero_gating=False,
                 clock_gates="lane")
    assert variant_config(base, "current") == base
    assert variant_config(base, "plain").params() == plain
    assert variant_config(base, "zero_gating").params() == dict(plain, zero_gating=True)
    assert variant_config(base, "folded").params() == dict(plain, mult_tree="folded")
    assert variant_config(base, "register_gates").params() == dict(plain,
                                                                   clock_gates="register")
    assert variant_config(base, "fixed").widths == (16,)
    assert variant_config(base, "fused2d").params() == dict(base.params(), mult_tree="fused2d")
def _entry(name, area, period, pj):
    return {"variant": name, "area_um2": area, "flops": 10, "clock_gates": 2,
            "period_ns": period,
            "runs": [{"width": w, "pj_per_mac": v,
                      "by_category_pj_per_mac": dict.fromkeys(
                          ("multipliers", "accumulators", "lane_registers", "clock",
                           "quantizer", "control"), v / 6)} for w, v in pj.items()]}


def test_ratios_by_hand():
    entries = [_entry("current", 100.0, 20.0, {16: 8.0, 8: 4.0, 4: 2.0}),
               _entry("folded", 90.0, 15.0, {16: 6.0, 8: 3.0, 4: 1.0}),
               _entry("fixed", 80.0, 10.0, {16: 5.0})]
    r = ratios(entries)
    assert r["current"] == {"w16_over_fixed_w16": 1.6, "w8_over_fixed_w16": 0.8,
                            "w4_over_fixed_w16": 0.4, "w4_over_w8": 0.5}
    assert r["folded"] == {"w16_over_fixed_w16": 1.2, "w8_over_fixed_w16": 0.6,
                           "w4_over_fixed_w16": 0.2, "w16_over_current": 0.75,
                           "w8_over_current": 0.75, "w4_over_current": 0.5,
                           "area_over_current": 0.9, "period_over_current": 0.75,
                           "w4_over_w8": 0.333}
    assert r["fixed"] == {"w16_over_fixed_w16": 1.0, "area_over_current": 0.8,
                          "period_over_current": 0.5, "w16_over_current": 0.625}
    text = markdown({"library": "nangate45", "variants": entries, "ratios": r})
    assert "| folded | 90 | 10 | 2 | 15.00 | 6.000 | 3.000 | 1.000 |" in text
    assert "| fixed | 80 | 10 | 2 | 10.00 | 5.000 |  |  |" in text


def test_trace_rows_have_their_own_ratios_and_columns():
    entries = [_entry("current", 100.0, 20.0, {16: 8.0, 4: 2.0}),
               _entry("zero_gating", 100.0, 20.0, {16: 8.0, 4: 2.0}),
               _entry("fixed", 80.0, 10.0, {16: 5.0})]
    for e, pj in zip(entries, ({16: 6.0, 4: 1.5}, {16: 3.0, 4: 1.2}, {16: 4.0})):
        e["runs"] += [dict(run, source="trace", width=w, pj_per_mac=v)
                      for run, (w, v) in zip(e["runs"], pj.items())]
    r = ratios(entries)
    assert r["zero_gating"] == {"w16_over_fixed_w16": 1.6, "w4_over_fixed_w16": 0.4,
                                "w16_over_current": 1.0, "w4_over_current": 1.0,
                                "area_over_current": 1.0, "period_over_current": 1.0,
                                "trace_w16_over_fixed_w16": 0.75,
                                "trace_w4_over_fixed_w16": 0.3, "trace_w16_over_current": 0.5,
                                "trace_w4_over_current": 0.8}
    text = markdown({"library": "nangate45", "variants": entries, "ratios": r,
                     "trace_note": "3 per width"})
    assert "| pJ/MAC w16 | pJ/MAC w4 | pJ/MAC trace w16 | pJ/MAC trace w4 |" in text
    assert "| zero_gating | 100 | 10 | 2 | 20.00 | 8.000 | 2.000 | 3.000 | 1.200 |" in text
    assert "| zero_gating | trace | 4 | **1.200** |" in text
    assert "random jobs (2 per width, K = 64); trace jobs: 3 per width," in text


def test_committed_tables_render_variants_json():
    import json
    root = REPO / "results" / "arch"
    data = json.loads((root / "variants.json").read_text())
    assert (root / "variants.md").read_text() == markdown(data)
    assert [e["variant"] for e in data["variants"]] == ["current", "folded", "valid_gating",
                                                         "folded+valid_gating", "fixed"]


def test_the_fused2d_run_renders_its_json():
    import json
    root = REPO / "results" / "arch" / "twod"
    data = json.loads((root / "variants.json").read_text())
    assert (root / "variants.md").read_text() == markdown(data)
    assert [e["variant"] for e in data["variants"]] == ["current", "folded", "fused2d", "fixed"]
@pytest.mark.parametrize("folder", ["dgate", "dgate-gates", "kept", "kept-current"])
def test_committed_trace_tables_render_their_json(folder):
    import json
    root = REPO / "results" / "arch" / folder
    data = json.loads((root / "variants.json").read_text())
    assert (root / "variants.md").read_text() == markdown(data)
    assert data["ratios"] == ratios(data["variants"])
    tunable = [e for e in data["variants"] if e["variant"] != "fixed"][-1]
    assert {(r["source"], r["width"]) for r in tunable["runs"]} == {
        (s, w) for s in ("random", "trace") for w in (16, 8, 4)}
