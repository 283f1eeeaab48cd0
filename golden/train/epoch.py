"""The run log's entries: the sums of one training epoch behind its entry (``EpochAccumulator``,
with JSON state so that a mid-epoch resume continues the same sums) and the entries of a change
of widths (``decision_entries``)."""

from collections import defaultdict


class EpochAccumulator:
    """Sums over one epoch; JSON state so that a mid-epoch resume continues the same sums."""

    def __init__(self):
        self.loss, self.images, self.steps, self.wall, self.update_clamped = 0.0, 0, 0, 0.0, 0
        self.tensors = defaultdict(lambda: [0, 0, 0])   # "layer/role" -> sat, underflow, count
        self.macs, self.bits = defaultdict(int), defaultdict(int)
        self.formats = {}

    def add(self, loss, images, stats):
        self.loss += loss * images
        self.images += images
        self.steps += 1
        self.update_clamped += stats.update_clamped
        for (layer, role), t in stats.tensors.items():
            s = self.tensors[f"{layer}/{role}"]
            s[0] += t["saturated"]
            s[1] += t["underflow"]
            s[2] += t["count"]
        for w, n in stats.macs.items():
            self.macs[str(w)] += n
        for w, n in stats.bits.items():
            self.bits[str(w)] += n
        self.formats.update({f"{k[0]}/{k[1]}": v for k, v in stats.formats.items()})

    def summary(self):
        layers = {}
        for key, (sat, unf, count) in sorted(self.tensors.items()):
            layer, role = key.split("/")
            entry = layers.setdefault(layer, {}).setdefault(role, {})
            entry["saturation"] = sat / count if count else 0.0
            entry["underflow"] = unf / count if count else 0.0
        formats = {}
        for key, fmt in self.formats.items():
            layer, role = key.split("/")
            formats.setdefault(layer, {})[role] = fmt
        return {"train_loss": self.loss / self.images if self.images else None,
                "steps": self.steps, "images": self.images, "formats": formats,
                "rates": layers, "macs_per_width": dict(sorted(self.macs.items(), key=_num)),
                "bits_moved_per_width": dict(sorted(self.bits.items(), key=_num)),
                "update_clamped": self.update_clamped, "train_time_s": round(self.wall, 3)}

    def state_dict(self):
        return {"loss": self.loss, "images": self.images, "steps": self.steps, "wall": self.wall,
                "update_clamped": self.update_clamped, "tensors": dict(self.tensors),
                "macs": dict(self.macs), "bits": dict(self.bits), "formats": self.formats}

    @classmethod
    def from_state(cls, s):
        acc = cls()
        acc.loss, acc.images, acc.steps, acc.wall = s["loss"], s["images"], s["steps"], s["wall"]
        acc.update_clamped = s["update_clamped"]
        acc.tensors.update({k: list(v) for k, v in s["tensors"].items()})
        acc.macs.update(s["macs"])
        acc.bits.update(s["bits"])
        acc.formats = dict(s["formats"])
        return acc


def decision_entries(old, decision, *, step, epoch):
    """The log's entries for a policy's ``decision`` replacing widths ``old``: one per changed
    (layer, role), or one "*" entry when every width changes to the same value (or to or from
    float32)."""
    entry = {"step": step, "epoch": epoch}
    widths = decision.widths
    if widths is None or old is None or old == "unset" or (
            len(set(widths.values())) == 1 and len(set(old.values())) == 1):
        return [{**entry, "layer": "*", "role": "*", "from": _describe(old),
                 "to": _describe(widths), "reason": decision.reason}]
    return [{**entry, "layer": key[0], "role": key[1], "from": old.get(key), "to": w,
             "reason": decision.reason_for(key)}
            for key, w in widths.items() if old.get(key) != w]


def _describe(widths):
    if widths is None:
        return "float32"
    if widths == "unset":
        return None
    values = sorted(set(widths.values()))
    return values[0] if len(values) == 1 else "mixed"


def _num(item):
    return int(item[0])
