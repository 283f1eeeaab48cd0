"""The cocotb regression of the generated Verilog (``varimac sim``): ``sim.suite``'s
scenarios on ``sim.tb.TB``, every output and both counters compared bit for bit with
``golden.gemm``.

Environment: ``VARIMAC_PARAMS`` (params.json of the Verilog under test), ``VARIMAC_QUICK=1``
(a representative subset, for CI), ``VARIMAC_SUMMARY`` (a file to append one JSON line per
job to).
"""

import json
import os

import cocotb

from hw.config import AccelConfig

from . import suite
from .tb import TB


def _record(scenario, name, job, cycles, ok):
    path = os.environ.get("VARIMAC_SUMMARY")
    if path:
        m, k, n = job.shape
        with open(path, "a") as f:
            f.write(json.dumps({"scenario": scenario, "job": name, "m": m, "k": k, "n": n,
                                **job.scalars(), "cycles": cycles, "exact": ok}) + "\n")


def _scenario(name):
    async def test(dut):
        tb = TB(dut, AccelConfig.load(os.environ["VARIMAC_PARAMS"]), seed=suite.SEEDS[name])
        await tb.start()
        quick = os.environ.get("VARIMAC_QUICK", "0") not in ("", "0")
        await getattr(suite, name)(tb, quick=quick, record=_record)
    test.__doc__ = getattr(suite, name).__doc__
    return cocotb.test(name=name)(test)


for _name in suite.SCENARIOS:
    globals()[_name] = _scenario(_name)
