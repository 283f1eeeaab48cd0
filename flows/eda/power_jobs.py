"""The power flow's replays job by job, each job's figures kept on disk (a row's figures from
its jobs' are ``flows.eda.power_spread``'s).

Each job is replayed alone on the netlist (reset, the job, its ``done``), so that it has its own
energy per MAC. Its result (MACs, cycles, toggles, energy by category and term, leakage) is
written to ``cache``/<key>.json as soon as it is known; the key hashes everything the figure
depends on: the netlist (``synth/key.txt``, itself a hash of the Verilog, the library and the
synthesis code), the simulation (zero-delay or glitch-aware), the clock, the slew, the wire
model, the job's packed command and beats, and the code of the replay and pricing modules.
A rerun after an interruption replays only the jobs without a file.
"""

import hashlib
import json
from pathlib import Path

from .breakdown import CATEGORIES

# The modules whose code a cached figure depends on (besides the netlist's own key); this
# module holds nothing else, so that a change to how rows are summed keeps the cache.
_CODE = ("activity.py", "gatesim.py", "glitchsim.py", "cellmodels.py", "vcd.py", "energy.py",
         "power_jobs.py")


def job_key(*, config, job, netlist_key, mode, clock_ns, slew, wire):
    """The cache key of one job's replay (see the module)."""
    from sim import host
    h = hashlib.sha256(json.dumps([netlist_key, mode, clock_ns, slew, wire,
                                   host.packed_command(config, job),
                                   host.packed_beats(config, job)]).encode())
    here = Path(__file__).parent
    for name in _CODE:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:24]


def cached(cache_dir, key, compute):
    """``compute()``'s dict, kept as ``cache_dir``/``key``.json and read back from there."""
    from golden.files import save_json
    path = Path(cache_dir) / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(path, value)
    return value


def job_figures(e, *, macs, cycles, toggles, driven_toggles):
    """One job's replay as plain numbers (joules, watts) from its ``Energy`` ``e``."""
    return {"macs": int(macs), "cycles": int(cycles), "toggles": int(toggles),
            "driven_toggles": int(driven_toggles),
            "dynamic_j": {c: e.dynamic[c] for c in CATEGORIES},
            "clock_by_owner_j": dict(e.clock_by_owner),
            "switching_j": sum(e.switching.values()), "internal_j": sum(e.internal.values()),
            "leakage_w": e.total_leakage}
