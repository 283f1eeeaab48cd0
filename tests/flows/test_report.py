"""``varimac report``: energy arithmetic, the Pareto front, figures and clear errors."""

import json

import pytest

from flows.reports import report
from flows.cli import main


def write_run(root, policy, accuracy, macs, bits, *, complete=True):
    run = root / policy
    run.mkdir()
    epochs = [{"test_accuracy": a, "macs_per_width": macs, "bits_moved_per_width": bits}
              for a in accuracy]
    (run / "log.json").write_text(json.dumps({
        "config": {"policy": policy, "epochs": len(accuracy)}, "command": f"train {policy}",
        "complete": complete, "epochs": epochs, "train_images": 100, "dataset": "x"}))
    return run


def power(prices, *, source="random", variant="tunable"):
    return {"runs": [{"variant": variant, "source": source, "width": int(w), "pj_per_mac": p}
                     for w, p in prices.items()]}


POWER = power({"4": 0.1, "8": 0.25, "12": 0.5, "16": 1.0})


def test_trace_measurements_override_random_ones():
    p = power({"8": 0.3, "16": 1.0})
    p["runs"] += power({"8": 0.2}, source="trace")["runs"] + power({"8": 9.0}, variant="fixed")["runs"]
    assert report.energy_per_mac(p) == {"8": 0.2, "16": 1.0}
    assert report.energy_per_mac(p, source="random") == {"8": 0.3, "16": 1.0}
    assert report.energy_per_mac(p, source="trace") == {"8": 0.2}
    assert report.energy_per_mac(POWER, source="trace") == {}


def test_energy_is_macs_times_price_plus_bits(tmp_path):
    run = report.load_run(write_run(tmp_path, "two-phase", [0.5, 0.6],
                                    {"8": 1000, "16": 3000}, {"8": 64, "16": 128}))
    assert run["macs_per_width"] == {"8": 2000, "16": 6000}  # summed over both epochs
    e = report.training_energy(run, report.energy_per_mac(POWER), pj_per_bit=0.5)
    # 2000 * 0.25 pJ + 6000 * 1.0 pJ = 6500 pJ; (128 + 256) bits * 0.5 pJ = 192 pJ
    assert e["compute_j"] == pytest.approx(6500e-12)
    assert e["memory_j"] == pytest.approx(192e-12)


def test_float32_macs_use_the_horowitz_fp32_price(tmp_path):
    run = report.load_run(write_run(tmp_path, "float32", [0.7], {"32": 10}, {"32": 0}))
    e = report.training_energy(run, report.energy_per_mac(POWER), pj_per_bit=0)
    assert e["compute_j"] == pytest.approx(10 * (3.7 + 0.9) * 1e-12)


def test_a_running_log_is_marked_and_not_compared(tmp_path):
    runs = [report.load_run(write_run(tmp_path, "fixed-8", [0.8], {"8": 1}, {"8": 1},
                                      complete=False)),
            report.load_run(write_run(tmp_path, "fixed-16", [0.7], {"16": 10}, {"16": 1}))]
    rows = report.build(runs, POWER, pj_per_bit=0)
    table = report.markdown(rows, power_path="p", pj_per_bit=0)
    assert "| fixed-8 | n=1 | 1/1 (running) |" in table
    # cheaper and better, but unfinished: no ratio to fixed-16 and not on the front
    assert [r["energy_vs_fixed16"] for r in rows] == [1.0, None]
    assert report.pareto_front(rows) == ["fixed-16"]


def test_pareto_front_and_relative_energy(tmp_path):
    runs = [report.load_run(write_run(tmp_path, p, [acc], macs, {"16": 0}))
            for p, acc, macs in [("fixed-16", 0.70, {"16": 100}), ("fixed-8", 0.60, {"8": 100}),
                                 ("two-phase", 0.70, {"8": 50, "16": 50}),
                                 ("fixed-12", 0.55, {"12": 100})]]
    rows = report.build(runs, POWER, pj_per_bit=0)
    assert [r["policy"] for r in rows] == ["fixed-16", "fixed-12", "fixed-8", "two-phase"]
    rel = {r["policy"]: r["energy_vs_fixed16"] for r in rows}
    assert rel["two-phase"] == pytest.approx((50 * 0.25 + 50 * 1.0) / 100)
    # fixed-12 costs more than fixed-8 for less accuracy; two-phase beats fixed-16 on energy
    assert report.pareto_front(rows) == ["fixed-8", "two-phase"]


def test_cli_writes_figures_table_and_json(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    write_run(runs, "fixed-16", [0.5, 0.6], {"16": 100}, {"16": 1600})
    write_run(runs, "fixed-8", [0.4, 0.5], {"8": 100}, {"8": 800})
    (tmp_path / "power.json").write_text(json.dumps(POWER))
    out = tmp_path / "out"
    assert main(["report", "--runs", str(runs / "*"), "--power", str(tmp_path / "power.json"),
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["figure.png", "pareto.png", "report.json",
                                                     "results.md"]
    assert (out / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "results.md").read_text()
    # 2 epochs of 100 8-bit MACs: 200 MACs, proxy 200 * 8² = 12800, 1600 bits moved
    assert "| fixed-8 | n=1 | 2/2 | 50.00% | 50.00% | 200 | 8-bit 100% | 1.28e+04 | 1.6e+03 |" in table


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "no log.json"),
    (lambda d: (d / "log.json").write_text("{"), "not valid JSON"),
    (lambda d: (d / "log.json").write_text(json.dumps({"epochs": []})), "no finished epoch yet"),
])
def test_bad_runs_are_clear_errors(tmp_path, capsys, setup, message):
    run = tmp_path / "run"
    run.mkdir()
    setup(run)
    (tmp_path / "power.json").write_text(json.dumps(POWER))
    assert main(["report", "--runs", str(run), "--power", str(tmp_path / "power.json"),
                 "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_width_without_a_price_is_refused(tmp_path, capsys):
    write_run(tmp_path, "fixed-12", [0.5], {"12": 1}, {"12": 1})
    (tmp_path / "power.json").write_text(json.dumps(power({"16": 1.0})))
    assert main(["report", "--runs", str(tmp_path / "fixed-12"), "--power",
                 str(tmp_path / "power.json"), "--out", str(tmp_path / "out")]) == 2
    assert "MACs at width(s) 12 but the power file prices only 16" in capsys.readouterr().err


def test_targets_are_judged_on_finished_runs(tmp_path):
    spec = [("float32", 0.800, {"32": 100}, True), ("fixed-16", 0.795, {"16": 100}, True),
            ("two-phase", 0.780, {"8": 50, "16": 50}, True),
            ("adaptive", 0.780, {"8": 60, "12": 40}, True)]
    runs = [report.load_run(write_run(tmp_path, p, [a], macs, {"16": 0}, complete=c))
            for p, a, macs, c in spec]
    got = {t["target"]: (t["measured"], t["verdict"])
           for t in report.targets(report.build(runs, POWER, pj_per_bit=0))}
    assert got["fixed-16 within 1.0 point of float32"] == ("79.50% vs 80.00% (-0.50 points)",
                                                          "met")
    assert got["two-phase within 1.5 points of float32"][1] == "not met"  # -2.0 points
    # (50 * 0.25 + 50 * 1.0) / 100 = 0.625 of fixed-16; (60 * 0.25 + 40 * 0.5) / 100 = 0.35
    assert got["two-phase at ≤ 70% of fixed-16's energy"] == ("0.62× fixed-16", "met")
    assert got["adaptive at the accuracy of two-phase"][1] == "met"  # equal counts as met
    assert got["adaptive with fewer 16-bit MACs than two-phase"] == ("0% vs 50% of MACs", "met")
    assert got["adaptive at ≤ 50% of fixed-16's energy"] == ("0.35× fixed-16", "met")


def test_targets_wait_for_unfinished_runs(tmp_path):
    runs = [report.load_run(write_run(tmp_path, "fixed-16", [0.7], {"16": 1}, {"16": 0})),
            report.load_run(write_run(tmp_path, "adaptive", [0.9], {"8": 1}, {"8": 0},
                                      complete=False))]
    targets = report.targets(report.build(runs, POWER, pj_per_bit=0))
    assert [t["verdict"] for t in targets] == ["pending"] * 6


def test_width_changes_are_listed_once_per_step_and_layer(tmp_path):
    run = write_run(tmp_path, "adaptive", [0.5, 0.6], {"8": 1}, {"8": 0})
    log = json.loads((run / "log.json").read_text())
    log["decisions"] = [
        {"step": 0, "epoch": 0, "layer": "*", "role": "*", "from": None, "to": 8,
         "reason": "start"},
        *({"step": 301, "epoch": 0, "layer": "conv1", "role": role, "from": 8, "to": 12,
           "reason": "min|g|=2^-16, underflow=0.306"} for role in ("weights", "errors")),
        {"step": 400, "epoch": 1, "layer": "*", "role": "*", "from": 8, "to": "float32",
         "reason": "float"}]
    (run / "log.json").write_text(json.dumps(log))
    table = report.markdown(report.build([report.load_run(run)], POWER, pj_per_bit=0),
                            power_path="p", pj_per_bit=0)
    rows = [line for line in table.splitlines() if line.startswith("| adaptive | ")]
    assert rows[1:] == ["| adaptive | 301 | 1 | conv1 | 8-bit → 12-bit | min\\|g\\|=2^-16, "
                        "underflow=0.306 |",
                        "| adaptive | 400 | 2 | * | 8-bit → float32 | float |"]
