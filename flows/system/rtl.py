"""The cycle model against RTL simulation: predicted and simulated cycles side by side.

Two committed sets of RTL-simulated jobs, no memory stalls on either side:

- ``results/bench/rtl.json`` (``varimac bench --only rtl``, its ``rtl/bench.json``): the network's layer GEMMs scaled for
  simulation, 16-bit, on 4×4 and 8×8 arrays (Verilator);
- ``results/power/power.json`` (``varimac power``): its random-data jobs at every width on its
  array (gate-level simulation), whose shapes are ``flows.eda.power_plan.random_jobs``'s.

The model is priced with an ideal memory (a buffer and DRAM that never stall) and ZigZag's
mapping of least latency (with no memory to trade against, the least energy × delay is not
defined by the array's cycles), so the difference is what the model leaves out of the array
itself (filling and draining it).
"""

from hw.config import AccelConfig

from .memconfig import MemoryConfig

IDEAL = MemoryConfig(name="ideal", description="never stalls", buffer_bytes=1 << 26,
                     buffer_bits_per_cycle=1 << 16, buffer_pj_per_bit=1.0,
                     dram_bytes_per_second=1e18, dram_pj_per_bit=1.0, sources={})


def samples(bench, power):
    """[(set, array config, name, [(m, k, n, width)], simulated cycles)]."""
    from flows.eda.power_plan import random_jobs
    out = []
    for key, entry in sorted((bench or {}).get("arrays", {}).items()):
        size = int(key.split("x")[0])
        cfg = AccelConfig.preset("default", rows=size, cols=size)
        for layer in entry["layers"]:
            out.append(("bench", cfg, f"{layer['layer']} {key}",
                        [(layer["m"], layer["k"], layer["n"], 16)], layer["cycles"]))
    if power:
        cfg = AccelConfig.from_params(power["config"])
        for r in power["runs"]:
            if r["variant"] == "tunable" and r["source"] == "random":
                jobs = random_jobs(cfg, r["width"], seed=r["width"], count=r["jobs"])
                if sum(j.shape[0] * j.shape[1] * j.shape[2] for j in jobs) != r["macs"]:
                    continue   # the power file came from other jobs than these
                shapes = [(*j.shape, r["width"]) for j in jobs]
                out.append(("power", cfg, f"random W={r['width']} {cfg.rows}x{cfg.cols}",
                            shapes, r["cycles"]))
    return out


def cross_check(bench, power, prices, *, period_ns):
    """Rows {set, array, name, jobs, predicted, ideal, simulated, ratio}."""
    from .workload import Gemm
    rows = []
    for kind, cfg, name, shapes, simulated in samples(bench, power):
        predicted = ideal = 0.0
        for m, k, n, w in shapes:
            p = prices.price(Gemm(0, "sample", "rtl", m, k, n, w, w, w), cfg, IDEAL, period_ns,
                             opt="latency")
            predicted += p["cycles"]
            ideal += p["ideal_cycles"]
        rows.append({"set": kind, "array": f"{cfg.rows}x{cfg.cols}", "name": name,
                     "jobs": [list(s) for s in shapes], "predicted": predicted,
                     "ideal": ideal, "simulated": simulated,
                     "predicted_over_simulated": predicted / simulated})
    return rows
