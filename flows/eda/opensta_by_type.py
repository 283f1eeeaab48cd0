"""The OpenSTA cross-check per cell type: each step of ``flows.eda.opensta_power.decompose``
summed over the instances of one type, beside OpenSTA's own figure (``varimac power-by-type``)."""

from itertools import pairwise
from pathlib import Path

from .opensta_power import (_INSTANCE, STEPS, clock_nets, decompose, read_slews,
                            uniform_toggles)


def by_type(*, netlist, library, sta_dir, activity, slew, wire, period_ns):
    """``[(cell type, count, {step: µW, "opensta": µW})]`` of internal power, largest
    OpenSTA figure first, from the ``power.log`` and ``slews.txt`` a ``check`` left in
    ``sta_dir``."""
    from .energy import compute_energy
    cap = compute_energy(netlist=netlist, library=library, slew=slew, wire=wire,
                         toggles=uniform_toggles(netlist, library, activity)).net_capacitance
    parts = decompose(netlist=netlist, library=library, activity=activity, slew=slew, cap=cap,
                      slews=read_slews(Path(sta_dir) / "slews.txt"))
    found = {m[4]: float(m[0]) for m in _INSTANCE.findall((Path(sta_dir) / "power.log")
                                                          .read_text())}
    scale = 1e6 / (period_ns * 1e-9)
    rows = {}
    for i, cell in enumerate(netlist.cells):
        n, sums = rows.setdefault(cell.type, [0, dict.fromkeys((*STEPS, "opensta"), 0.0)])
        rows[cell.type][0] = n + 1
        for step in STEPS:
            sums[step] += parts[step][i] * scale
        sums["opensta"] += found[f"c{i}"] * 1e6
    return sorted(((t, n, s) for t, (n, s) in rows.items()), key=lambda r: -r[2]["opensta"])


def slew_summary(netlist, library, slews):
    """``{"clock"|"data": (pins, mean, max)}``: the input slews (mean of rise and fall, ps)
    OpenSTA propagates to the pins on the clock network and to the others."""
    clock = clock_nets(netlist, library)
    seen = {"clock": [], "data": []}
    for i, cell in enumerate(netlist.cells):
        for pin, net in cell.pins.items():
            if f"c{i}/{pin}" in slews and cell.directions[pin] == "input":
                rise, fall = slews[f"c{i}/{pin}"]
                seen["clock" if net in clock else "data"].append((rise + fall) / 2 * 1e12)
    return {k: (len(v), sum(v) / len(v), max(v)) for k, v in seen.items() if v}


def _ratio(a, b):
    return f"{a / b:.3f}" if b else "–"


def by_type_markdown(root, variant, *, top=12):
    """The per-cell-type table of a power run's OpenSTA check (``root`` holds ``power.json`` and
    ``work/``) as Markdown, the ``top`` types by OpenSTA's figure and the sum of all."""
    import json

    from .liberty import prepare_liberty
    from .netlist import Netlist
    from .synth import category_of
    report = json.loads((Path(root) / "power.json").read_text())
    c = report["opensta"][variant]
    work = Path(root) / "work" / variant
    _, library = prepare_liberty(report["library"],
                                 build_dir=Path(__file__).resolve().parents[2] / "build")
    netlist = Netlist(work / "synth" / "netlist.json", top="varimac", category_of=category_of)
    rows = by_type(netlist=netlist, library=library, sta_dir=work / "opensta",
                   activity=c["activity"], slew=report["slew_ps"] * 1e-12,
                   wire=report["wire_model"], period_ns=c["period_ns"])
    total = {k: sum(r[2][k] for r in rows) for k in (*STEPS, "opensta")}
    lines = [(f"Internal power (µW) by cell type, {variant} array, activity {c['activity']:g} "
              f"per cycle at {c['period_ns']:g} ns (`varimac power-by-type {root} {variant}`). "
              "Each column changes one thing from the one before (docs/power.md, OpenSTA "
              "cross-check); × is the factor of that change."), "",
             ("| cell | count | flow | OpenSTA's activities | × | OpenSTA's slews, data pins | × "
              "| and clock pins | × | OpenSTA's rule | × | OpenSTA | OpenSTA / rule "
              "| OpenSTA / flow |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for ctype, n, s in rows[:top] + [("all", sum(r[1] for r in rows), total)]:
        cells = [f"{s[STEPS[0]]:,.1f}"]
        for before, step in pairwise(STEPS):
            cells += [f"{s[step]:,.1f}", _ratio(s[step], s[before])]
        lines.append(f"| {ctype} | {n} | " + " | ".join(cells) + f" | {s['opensta']:,.1f} | "
                     f"{_ratio(s['opensta'], s['rule'])} | {_ratio(s['opensta'], s['flow'])} |")
    summary = slew_summary(netlist, library, read_slews(work / "opensta" / "slews.txt"))
    lines += ["", "Input slews OpenSTA propagates (mean of rise and fall): " + "; ".join(
        f"{k} pins {n:,}, mean {mean:.1f} ps, max {top_:.1f} ps"
        for k, (n, mean, top_) in summary.items())
        + f"; the flow's one fixed slew {report['slew_ps']:g} ps."]
    return "\n".join(lines) + "\n"
