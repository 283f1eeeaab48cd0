"""The report's view of several seeds per policy: one row per policy (means over its finished
seeds), and the comparisons that Welch's 95% interval can decide (``flows.reports.seedstats``)."""

from .seedstats import mean_std, verdict, welch

REFERENCE = "float32"


def is_fixed(policy):
    return policy.startswith("fixed-") and "+" not in policy


def group_seeds(rows):
    """One row per policy. A policy's finished runs of its most common length are averaged
    (accuracy curve, final and best accuracy, MACs, bits, energy), with ``n``, ``seeds``,
    ``final_values``, ``final_std`` and ``accuracy_std``; with none finished, its longest run
    stands alone. ``running`` counts the runs left out."""
    by = {}
    for r in rows:
        by.setdefault(r["policy"], []).append(r)
    out = []
    for policy, runs in by.items():
        done = [r for r in runs if r["complete"]]
        if done:
            lengths = [r["epochs"] for r in done]
            length = max(set(lengths), key=lambda n: (lengths.count(n), n))
            use = sorted((r for r in done if r["epochs"] == length), key=lambda r: r["seed"])
        else:
            use = [max(runs, key=lambda r: r["epochs"])]
        out.append(dict(_average(use), running=len(runs) - len(use)))
    return out


def _average(use):
    row = dict(use[0])
    finals = [r["final_accuracy"] for r in use]
    curves = list(zip(*(r["accuracy"] for r in use)))
    row.update(n=len(use), seeds=[r["seed"] for r in use], final_values=finals,
               final_accuracy=mean_std(finals)[0], final_std=mean_std(finals)[1],
               accuracy=[mean_std(list(c))[0] for c in curves],
               accuracy_std=[mean_std(list(c))[1] for c in curves])
    if len(use) == 1:
        return row
    row["best_accuracy"] = mean_std([r["best_accuracy"] for r in use])[0]
    for key in ("compute_j", "memory_j", "total_j"):
        row[key] = mean_std([r[key] for r in use])[0]
    for key in ("macs_per_width", "bits_moved_per_width"):
        widths = {w for r in use for w in r[key]}
        row[key] = {w: sum(r[key].get(w, 0) for r in use) / len(use) for w in widths}
    row["width_changes"] = [dict(c, layer=f"{c['layer']} (seed {r['seed']})")
                            for r in use for c in r["width_changes"]]
    row["path"] = [r["path"] for r in use]
    return row


def compare(a, b, *, slack=0.0):
    """(interval of a - b in accuracy, verdict) for two grouped rows."""
    interval = welch(a["final_values"], b["final_values"])
    return interval, verdict(interval, slack=slack)


def pairs(rows):
    """Each policy against float32; each dynamic policy against each fixed-width one that
    spends no more energy than it."""
    done = [r for r in rows if r["complete"]]
    ref = next((r for r in done if r["policy"] == REFERENCE), None)
    out = [(r, ref) for r in done if ref is not None and r is not ref]
    out += [(d, f) for d in done if not is_fixed(d["policy"]) and d["policy"] != REFERENCE
            for f in done if is_fixed(f["policy"]) and f["total_j"] <= d["total_j"]]
    return out


def dynamic_on_front(rows):
    """Dynamic policies whose mean final accuracy is higher, with the 95% intervals separated,
    than that of every fixed-width policy of lower or equal energy."""
    done = [r for r in rows if r["complete"]]
    out = []
    for d in done:
        if is_fixed(d["policy"]) or d["policy"] == REFERENCE:
            continue
        rivals = [f for f in done if is_fixed(f["policy"]) and f["total_j"] <= d["total_j"]]
        if all(compare(d, f)[1] == "higher" for f in rivals):
            out.append(d["policy"])
    return out


def markdown(rows):
    """The seed-statistics section; empty while every policy has a single seed."""
    if all(r["n"] < 2 for r in rows):
        return []
    lines = ["", "Seeds: mean ± sample standard deviation over each policy's finished runs; "
             "Welch's 95% interval of the difference of mean final accuracies; a verdict only "
             "when the interval excludes zero.", "",
             "| comparison | n | difference (points) | 95% interval (points) | verdict |",
             "|---|---|---|---|---|"]
    for a, b in pairs(rows):
        interval, v = compare(a, b)
        span = f"[{100 * interval[1]:+.2f}, {100 * interval[2]:+.2f}]" if interval else "–"
        diff = 100 * (a["final_accuracy"] - b["final_accuracy"])
        lines.append(f"| {a['policy']} vs {b['policy']} | {a['n']} vs {b['n']} | {diff:+.2f} | "
                     f"{span} | {v} |")
    by = {r["policy"]: r for r in rows if r["complete"]}
    equal = (compare(by["fixed-16"], by[REFERENCE])[1] if {"fixed-16", REFERENCE} <= set(by)
             else "pending")
    front = dynamic_on_front(rows)
    lines += ["", "| target (issue 20) | measured | verdict |", "|---|---|---|",
              f"| a dynamic policy strictly on the Pareto front of mean accuracy vs energy | "
              f"{', '.join(front) or 'none'} | {'met' if front else 'not met'} |",
              f"| fixed-16 and float32 within noise of each other | {equal} | "
              f"{'met' if equal == 'within noise' else 'pending' if equal == 'pending' else 'not met'} |"]
    return lines
