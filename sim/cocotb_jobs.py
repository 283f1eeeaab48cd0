"""cocotb test that runs contract job files on the Verilog (``varimac gemm --backend rtl``,
the benchmark). ``VARIMAC_MANIFEST`` names a JSON file: ``{"jobs": [{"job": path, "result":
path}, ...], "gap": p, "stall": p, "seed": s, "report": path}``; the report gets each job's
cycle count and the simulation's wall time."""

import json
import os
import time

import cocotb

from golden import GemmJob
from hw.config import AccelConfig

from .tb import TB


@cocotb.test()
async def run_manifest(dut):
    config = AccelConfig.load(os.environ["VARIMAC_PARAMS"])
    with open(os.environ["VARIMAC_MANIFEST"]) as f:
        manifest = json.load(f)
    tb = TB(dut, config, seed=manifest.get("seed", 0), gap=manifest.get("gap", 0.0),
            stall=manifest.get("stall", 0.0))
    await tb.start()
    report = []
    for entry in manifest["jobs"]:
        job = GemmJob.load(entry["job"])
        start = time.perf_counter()
        result, cycles = await tb.run_job(job)
        report.append({"cycles": cycles, "seconds": time.perf_counter() - start})
        result.save(entry["result"])
    with open(manifest["report"], "w") as f:
        json.dump(report, f)
