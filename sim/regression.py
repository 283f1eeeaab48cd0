"""``varimac sim``: the cocotb regression on the generated Verilog, summarised as JSON."""

import json
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from golden.files import save_json

from .runner import default_simulator, run_tests


def test_outcomes(results_xml):
    """``{test name: "pass" | "fail" | "skip"}`` from cocotb's JUnit results file."""
    outcomes = {}
    for case in ET.parse(results_xml).getroot().iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "fail"
        elif case.find("skipped") is not None:
            outcomes[name] = "skip"
        else:
            outcomes[name] = "pass"
    return outcomes


def run_regression(config, out_dir, *, sim=None, quick=False, testcase=None, build_root=None):
    """Run the regression; writes ``out_dir``/summary.json (and the log) and returns it."""
    sim = sim or default_simulator()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs_file = out_dir / "jobs.jsonl"
    jobs_file.unlink(missing_ok=True)
    start = time.monotonic()
    tests, failed, results = run_tests(
        config, sim=sim, build_root=build_root, testcase=testcase, test_dir=out_dir,
        env={"VARIMAC_QUICK": "1" if quick else "0", "VARIMAC_SUMMARY": str(jobs_file)})
    jobs = [json.loads(line) for line in jobs_file.read_text().splitlines()] \
        if jobs_file.exists() else []
    summary = {
        "simulator": sim, "quick": quick, "config": config.params(),
        "tests": test_outcomes(results), "failed": failed,
        "jobs": len(jobs), "exact": sum(j["exact"] for j in jobs),
        "jobs_per_scenario": dict(Counter(j["scenario"] for j in jobs)),
        "simulated_cycles": sum(j["cycles"] for j in jobs),
        "wall_seconds": round(time.monotonic() - start, 1),
        "log": str(out_dir / "sim.log"),
    }
    save_json(out_dir / "summary.json", summary, indent=2)
    return summary
