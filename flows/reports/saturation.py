"""Saturation and underflow per layer and role, side by side for several training logs.

    varimac saturation RUN_DIR... [--epoch N] > table.md

Every rate is the log's own count for that epoch (``rates`` of ``golden.train.trainer``): the share of a
tensor's values clamped to the format (saturation) or rounded to zero from nonzero
(underflow), summed over the epoch's steps.
"""

import json
import os

ROLES = ("activations", "errors", "updates")


def table(logs, *, epoch=-1):
    """Markdown: one row per (layer, role) that a GEMM writes, two columns per log."""
    names = [os.path.basename(os.path.normpath(p)) for p in logs]
    data = []
    for path in logs:
        with open(os.path.join(path, "log.json")) as f:
            data.append(json.load(f)["epochs"][epoch]["rates"])
    keys = sorted({(layer, role) for d in data for layer, roles in d.items() for role in roles
                   if role in ROLES}, key=lambda k: (_order(k[0]), ROLES.index(k[1])))
    head = " | ".join(f"{n} saturation | {n} underflow" for n in names)
    lines = [f"| layer | role | {head} |", "|---|---|" + "---|" * (2 * len(names))]
    for layer, role in keys:
        cells = []
        for d in data:
            r = d.get(layer, {}).get(role)
            cells += [f"{r['saturation']:.2e}", f"{r['underflow']:.2e}"] if r else ["–", "–"]
        lines.append(f"| {layer} | {role} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def _order(layer):
    from golden.train.network import LAYERS
    names = [l.name for l in LAYERS] + ["logits"]
    return names.index(layer) if layer in names else len(names)

