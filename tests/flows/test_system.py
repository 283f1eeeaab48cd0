"""varimac system: log replay, memory configs, the ZigZag cycle/traffic arithmetic, the command."""

import json
import subprocess
import sys

import pytest

from flows.system import memconfig, model as system, workload
from hw.config import AccelConfig
from tests.support.paths import REPO

BATCH, IMAGES = 128, 300          # 3 steps per epoch: 128, 128 and 44 images
DENSE2 = 10 * 512                 # dense2: 512 inputs, 10 outputs


def _log(decisions, epochs=2):
    return {"config": {"policy": "toy", "epochs": epochs, "batch": BATCH},
            "steps_per_epoch": 3, "train_images": IMAGES, "complete": True,
            "epochs": [{"test_accuracy": 0.5} for _ in range(epochs)], "decisions": decisions}


TWO_CHANGES = [
    {"step": 0, "epoch": 0, "layer": "*", "role": "*", "from": None, "to": 8},
    {"step": 2, "epoch": 0, "layer": "dense2", "role": "errors", "from": 8, "to": 12},
    {"step": 4, "epoch": 1, "layer": "*", "role": "*", "from": "mixed", "to": "float32"}]


def test_replay_follows_two_width_changes():
    first, second = workload.run_workload(_log(TWO_CHANGES))
    m1, _ = workload.counts_per_width(first)
    m2, _ = workload.counts_per_width(second)
    # Errors of dense2 at 12 bits widen its backward-data (B×10 · 10×512) and backward-weight
    # (512×B · B×10) GEMMs: 2·B·5120 MACs per step of B images. Step 2 has 44 images, step 3
    # 128.
    assert m1[12] == 2 * 44 * DENSE2
    assert m2[12] == 2 * 128 * DENSE2
    # Steps 4 and 5 (128 + 44 images) in float32: every GEMM of the network, i.e. the
    # per-image MACs of an all-8-bit step times those images.
    all8 = workload.counts_per_width(workload.run_workload(_log(TWO_CHANGES[:1], epochs=1))[0])[0]
    assert all8[8] % IMAGES == 0
    assert m2[32] == all8[8] // IMAGES * (128 + 44)
    assert set(m1) == {8, 12} and set(m2) == {8, 12, 32}


def test_replay_is_checked_against_the_logs_counts():
    log = _log(TWO_CHANGES)
    per_epoch = workload.run_workload(log)
    for epoch, counted in zip(log["epochs"], per_epoch):
        macs, bits = workload.counts_per_width(counted)
        epoch["macs_per_width"] = {str(w): n for w, n in macs.items()}
        epoch["bits_moved_per_width"] = {str(w): n for w, n in bits.items()}
    workload.check_against_log(log, per_epoch)
    log["epochs"][1]["macs_per_width"]["12"] += 1
    with pytest.raises(workload.WorkloadError, match="epoch 2: MACs per width"):
        workload.check_against_log(log, per_epoch)


@pytest.mark.parametrize("decisions, message", [
    ([], "no starting widths at step 0"),
    ([{"step": 0, "layer": "*", "role": "*", "from": None, "to": "mixed"}], "'mixed' widths"),
    ([{"step": 0, "layer": "*", "role": "*", "to": 8},
      {"step": 1, "layer": "conv9", "role": "errors", "to": 8}], "unknown tensor conv9/errors"),
    ([{"step": 0, "layer": "*", "role": "*", "to": 7.5}], "width 7.5 is not"),
])
def test_replay_refuses_logs_it_cannot_replay(decisions, message):
    with pytest.raises(workload.WorkloadError, match=message):
        workload.run_workload(_log(decisions))


GOOD = {"name": "t", "description": "test",
        "buffer": {"bytes": 4096, "bits_per_cycle": 128, "pj_per_64_bits": 10, "source": "s"},
        "dram": {"bytes_per_second": 1e9, "pj_per_64_bits": 1300, "source": "s"}}


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("dram"), "missing dram"),
    (lambda d: d.update(cache=1), "unknown field"),
    (lambda d: d["buffer"].update(bytes=-1), "buffer.bytes must be a positive integer, not -1"),
    (lambda d: d["dram"].update(pj_per_64_bits="x"), "dram.pj_per_64_bits must be a positive"),
    (lambda d: d["dram"].update(source=""), "dram.source must say where"),
    (lambda d: d["buffer"].pop("bits_per_cycle"), "buffer: missing bits_per_cycle"),
])
def test_memory_config_errors_are_one_line(edit, message):
    data = json.loads(json.dumps(GOOD))
    edit(data)
    with pytest.raises(memconfig.MemoryConfigError, match=message) as info:
        memconfig.parse(data, where="bad.json")
    assert "\n" not in str(info.value) and str(info.value).startswith("bad.json: ")


def test_builtin_memory_configs_state_their_numbers():
    edge, large = memconfig.load("edge"), memconfig.load("large")
    assert edge.buffer_bytes < large.buffer_bytes
    assert edge.dram_bits_per_cycle(10) == 2e8 * 8 * 10e-9     # 200 MB/s at 100 MHz: 16 bits
    assert all(m.sources["dram"] and m.sources["buffer"] for m in (edge, large))


def test_cycles_and_traffic_of_a_tiny_gemm():
    """8×64×8 on a 4×4 array: (8/4)·(8/4) output tiles, each ceil(64/P) beats; with a buffer
    that holds everything, DRAM moves every operand and result once at its width. ZigZag counts
    accesses in whole port words (80 bits here) and truncates each of the three operands'
    counts: up to one word each."""
    pytest.importorskip("zigzag")
    from flows.system.zigzag_model import evaluate
    cfg = AccelConfig(rows=4, cols=4, max_width=16, lane_width=4, max_k=256)
    mem = memconfig.parse(GOOD)
    for w, p in ((16, 1), (4, 4)):
        r = evaluate(8, 64, 8, a=w, b=w, out=w, config=cfg, memory=mem, period_ns=10)
        assert r["ideal_cycles"] == 2 * 2 * (64 // p)
        word = mem.dram_bits_per_cycle(10)
        assert abs(r["dram_bits"] - (8 * 64 + 64 * 8 + 8 * 8) * w) < 3 * word
        fast = memconfig.parse(dict(GOOD, dram=dict(GOOD["dram"], bytes_per_second=1e11),
                                    buffer=dict(GOOD["buffer"], bits_per_cycle=1024)))
        r = evaluate(8, 64, 8, a=w, b=w, out=w, config=cfg, memory=fast, period_ns=10)
        assert r["ideal_cycles"] <= r["cycles"] <= r["ideal_cycles"] + 32
    # A DRAM of one byte per cycle cannot feed it: the time is at least the transfer time.
    slow = memconfig.parse(dict(GOOD, dram=dict(GOOD["dram"], bytes_per_second=1e8)))
    r = evaluate(8, 64, 8, a=16, b=16, out=16, config=cfg, memory=slow, period_ns=10)
    assert r["cycles"] >= (8 * 64 + 64 * 8 + 8 * 8) * 16 / 8


def test_totals_multiply_prices_by_steps():
    """With a stand-in price list, time = Σ steps × cycles × period and energy adds up."""
    def fake(m, k, n, *, a, b, out, config, memory, period_ns):
        return {"cycles": 10.0, "ideal_cycles": 10.0, "beats": 1, "pack": 1, "buffer_pj": 2.0,
                "dram_pj": 3.0, "buffer_bits": 0.0, "dram_bits": 8.0}
    per_epoch = workload.run_workload(_log(TWO_CHANGES[:1], epochs=1))
    gemms = per_epoch[0]
    steps = sum(gemms.values())                   # 3 steps × 17 GEMMs
    assert steps == 3 * 17
    t = system.run_totals(gemms, system.PriceBook(evaluate=fake), memory=memconfig.parse(GOOD),
                          config=AccelConfig(rows=4, cols=4), period_ns=10,
                          pj_per_mac={8: 1.0}, where="toy", batch=BATCH)
    # Per epoch: 17 GEMMs in each of two full steps and one of 44/128 of a step.
    assert t["time_s"] == pytest.approx(17 * (2 + 44 / 128) * 10 * 10e-9)
    assert t["dram_j"] == pytest.approx(17 * (2 + 44 / 128) * 3e-12)
    assert t["mac_j"] == pytest.approx(t["macs"] * 1e-12)


ROOT = REPO
MAIN = "import sys; from flows.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.parametrize("extra, message", [
    (["--memory", "nowhere"], "nowhere: cannot read it"),
    (["--runs", "missing-run"], "no log.json"),
])
def test_command_refuses_bad_input_in_one_line(tmp_path, extra, message):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "log.json").write_text(json.dumps(_log(TWO_CHANGES[:1], epochs=1)))
    runs = str(tmp_path / extra[1]) if extra[0] == "--runs" else str(run_dir)
    args = ["system", "--runs", runs, "--power", str(ROOT / "results/power/power.json"),
            "--out", str(tmp_path / "out")] + (extra if extra[0] != "--runs" else [])
    r = subprocess.run([sys.executable, "-c", MAIN, *args], cwd=tmp_path,
                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr
    assert not (tmp_path / "out").exists()


def test_committed_table_renders_committed_json():
    from flows.system.report import markdown, summary
    data = json.loads((ROOT / "results" / "system" / "system.json").read_text())
    assert (ROOT / "results" / "system" / "system.md").read_text() == markdown(data)
    assert (ROOT / "results" / "system" / "summary.md").read_text() == summary(data)
