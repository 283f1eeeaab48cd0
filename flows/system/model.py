"""The system model: training time and full-system energy per precision scheme.

For every training GEMM a run executed, at the widths it used (``flows.system.workload``), ZigZag
gives the cycles (stalls included) and the on-chip buffer and DRAM energy on the array with a
memory configuration (``flows.system.zigzag_model``, ``flows.system.memconfig``). Per run:

- time = Σ steps × cycles × clock period (``flows.system.clock``);
- energy = MACs × energy per MAC at the GEMM's width (``varimac power``, the tunable array;
  float32 MACs at Horowitz's 4.6 pJ) + buffer energy + DRAM energy.

Each distinct (GEMM, widths, images) is priced once per memory configuration and multiplied by
the steps that ran it; prices are cached in a JSON file, so a rerun only prices what is new.
"""

import json
import os
from collections import Counter

from golden.files import write_atomic

from . import workload
from flows.horowitz import FLOAT32_MAC_PJ
from flows.reports.report import ORDER, energy_per_mac

SCALED = ("cycles", "ideal_cycles", "beats", "buffer_pj", "dram_pj", "buffer_bits", "dram_bits")


class SystemModelError(ValueError):
    """Input the system model cannot use."""


MODEL = 2   # bump when the ZigZag description changes: cached prices of older ones are stale


def _cache_key(g, config, memory, period_ns, opt=None):
    from .zigzag_model import LPF_LIMIT, OPT
    return json.dumps([MODEL, opt or OPT, LPF_LIMIT, g.m, g.k, g.n, g.a, g.b, g.out, config.rows,
                       config.cols, config.max_width, memory.key(), period_ns])


class PriceBook:
    """Prices of GEMMs, cached in ``path`` (JSON) when given."""

    def __init__(self, path=None, *, evaluate=None):
        from .zigzag_model import evaluate as zigzag
        self.path, self.evaluate = path, evaluate or zigzag
        self.prices = {}
        if path and os.path.exists(path):
            try:
                with open(path) as f:
                    self.prices = json.load(f)
            except (OSError, ValueError):
                self.prices = {}   # a damaged cache is only a slower run

    def missing(self, gemms, config, memory, period_ns):
        return [g for g in gemms if _cache_key(g, config, memory, period_ns) not in self.prices]

    def price(self, g, config, memory, period_ns, *, opt=None):
        key = _cache_key(g, config, memory, period_ns, opt)
        if key not in self.prices:
            extra = {"opt": opt} if opt else {}
            self.prices[key] = self.evaluate(g.m, g.k, g.n, a=g.a, b=g.b, out=g.out,
                                             config=config, memory=memory, period_ns=period_ns,
                                             **extra)
            if self.path:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                write_atomic(self.path, lambda f: json.dump(self.prices, f))
        return self.prices[key]


def mac_prices(power):
    """{width: pJ per MAC}: the tunable array's measured values, float32 at Horowitz's."""
    table = {int(w): pj for w, pj in energy_per_mac(power).items()}
    table[workload.FLOAT] = FLOAT32_MAC_PJ
    return table


def bandwidth_bound(price, memory, period_ns):
    """True when moving the GEMM's DRAM bits takes longer than its ideal compute cycles."""
    return price["dram_bits"] / memory.dram_bits_per_cycle(period_ns) > price["ideal_cycles"]


def to_price(gemms, batch):
    """The full-batch GEMMs that price ``gemms`` (``workload.full_batch``)."""
    return {workload.full_batch(g, batch)[0] for g in gemms}


def run_totals(gemms, prices, *, memory, config, period_ns, pj_per_mac, where, batch):
    """Time and energy of one run's Counter(Gemm -> steps) under one memory configuration;
    a GEMM of a short step (fewer than ``batch`` images) costs its share of a full one's."""
    t = Counter()
    for g, steps in gemms.items():
        full, share = workload.full_batch(g, batch)
        p = {k: v * share if k in SCALED else v
             for k, v in prices.price(full, config, memory, period_ns).items()}
        if g.width not in pj_per_mac:
            raise SystemModelError(f"{where}: MACs at width {g.width} but the power file prices "
                               f"only {', '.join(map(str, sorted(pj_per_mac)))}")
        t["cycles"] += steps * p["cycles"]
        t["ideal_cycles"] += steps * p["ideal_cycles"]
        t["mac_j"] += steps * g.macs * pj_per_mac[g.width] * 1e-12
        t["buffer_j"] += steps * p["buffer_pj"] * 1e-12
        t["dram_j"] += steps * p["dram_pj"] * 1e-12
        t["dram_bits"] += steps * p["dram_bits"]
        t["macs"] += steps * g.macs
        if bandwidth_bound(p, memory, period_ns):
            t["bound_cycles"] += steps * p["cycles"]
    out = dict(t)
    out["time_s"] = t["cycles"] * period_ns * 1e-9
    out["total_j"] = t["mac_j"] + t["buffer_j"] + t["dram_j"]
    out["bandwidth_bound_share"] = t["bound_cycles"] / t["cycles"] if t["cycles"] else 0.0
    return out


def load_runs(paths):
    """[(summary, Counter of the whole run)] ordered as the report orders schemes."""
    runs = []
    for path in paths:
        log, per_epoch = workload.load(path)
        total = Counter()
        for epoch in per_epoch:
            total.update(epoch)
        acc = [e.get("test_accuracy") for e in log["epochs"]]
        runs.append(({"policy": log["config"]["policy"], "path": str(path),
                      "batch": log["config"]["batch"],
                      "complete": bool(log.get("complete")), "epochs": len(per_epoch),
                      "epochs_planned": log["config"].get("epochs"),
                      "final_accuracy": acc[-1]}, total))
    runs.sort(key=lambda r: (ORDER.index(r[0]["policy"]) if r[0]["policy"] in ORDER
                             else len(ORDER), r[0]["policy"]))
    return runs


def _ratio(rows, policy, key, row):
    ref = next((r for r in rows if r["policy"] == policy and r["complete"]), None)
    if ref is None or not row["complete"] or row["epochs"] != ref["epochs"] or not ref[key]:
        return None
    return row[key] / ref[key]


def build(runs, memories, power, *, config, period_ns, prices):
    """{memory name: [row per run]} with time, energy split and ratios to fixed-16/float32."""
    pj = mac_prices(power)
    result = {}
    for memory in memories:
        rows = []
        for summary, gemms in runs:
            rows.append(dict(summary, **run_totals(gemms, prices, memory=memory, config=config,
                                                   period_ns=period_ns, pj_per_mac=pj,
                                                   where=summary["path"],
                                                   batch=summary["batch"])))
        for r in rows:
            for ref in ("fixed-16", "float32"):
                r[f"time_vs_{ref}"] = _ratio(rows, ref, "time_s", r)
                r[f"energy_vs_{ref}"] = _ratio(rows, ref, "total_j", r)
        result[memory.name] = rows
    return result


def roofline(runs, memories, *, config, period_ns, prices):
    """Per memory: one point per distinct full-batch GEMM (layer, kind, widths) of the runs."""
    seen = sorted({g for summary, gemms in runs for g in to_price(gemms, summary["batch"])})
    out = {}
    for memory in memories:
        points = []
        for g in seen:
            p = prices.price(g, config, memory, period_ns)
            points.append({"layer": g.layer, "kind": g.kind, "m": g.m, "k": g.k, "n": g.n,
                           "a": g.a, "b": g.b, "out": g.out, "macs": g.macs,
                           "peak_macs_per_cycle": config.rows * config.cols * p["pack"],
                           "macs_per_cycle": g.macs / p["cycles"],
                           "macs_per_dram_byte": g.macs / (p["dram_bits"] / 8),
                           "bandwidth_bound": bandwidth_bound(p, memory, period_ns)})
        out[memory.name] = {"dram_bytes_per_cycle": memory.dram_bits_per_cycle(period_ns) / 8,
                            "points": points}
    return out
