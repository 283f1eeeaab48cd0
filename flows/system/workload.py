"""The training GEMMs a committed run executed, at the widths it used, from its ``log.json``.

A log records the widths of every (layer, role) as decisions: one ``"*"`` entry when every width
changes together (or to or from float32), else one entry per changed tensor, each at the step
from which it applies. Replaying them step by step gives the widths of every GEMM of every step
(``golden.train.network.gemm_shapes``; operand widths as ``golden.train.engine_fixed`` uses them):

- forward of layer i: a = activations of i, b = weights of i, out = activations of layer i+1;
- backward-data of layer i: a = errors of i, b = weights of i, out = errors of layer i-1;
- backward-weight of layer i: a = activations of i, b = errors of i, out = updates of i.

A step of ``n`` images runs the shapes of ``gemm_shapes(n)`` (the last step of an epoch may be
short). Identical (GEMM, widths, images) occur thousands of times, so a run is a ``Counter`` of
``Gemm`` -> steps, which the system model prices once each. The log's own per-epoch MAC and
bit counts check the replay exactly (``check_against_log``).
"""

from collections import Counter
from dataclasses import dataclass

from golden.train.network import LAYERS, LOGITS, gemm_shapes, tensor_keys

FLOAT = 32  # float32 operands: 32-bit words, one MAC per PE per cycle


class WorkloadError(ValueError):
    """A run log the system model cannot replay."""


@dataclass(frozen=True, order=True)
class Gemm:
    """One training GEMM of a step of ``images`` images: (M×K)·(K×N) with operand widths ``a``,
    ``b`` and output width ``out`` (``FLOAT`` for all three in float32)."""
    images: int
    layer: str
    kind: str
    m: int
    k: int
    n: int
    a: int
    b: int
    out: int

    @property
    def macs(self):
        return self.m * self.k * self.n

    @property
    def width(self):
        """The width the log counts the MACs at (the wider operand)."""
        return max(self.a, self.b)


def _operand_widths(widths):
    """{(layer, kind): (a, b, out)} for one step's {(layer, role): width}."""
    names = [layer.name for layer in LAYERS]
    out = {}
    for i, name in enumerate(names):
        nxt = names[i + 1] if i + 1 < len(names) else LOGITS
        out[(name, "forward")] = (widths[(name, "activations")], widths[(name, "weights")],
                                  widths[(nxt, "activations")])
        if i:
            out[(name, "backward_data")] = (widths[(name, "errors")], widths[(name, "weights")],
                                            widths[(names[i - 1], "errors")])
        out[(name, "backward_weight")] = (widths[(name, "activations")], widths[(name, "errors")],
                                          widths[(name, "updates")])
    return out


def _width_value(value, where):
    if value == "float32":
        return FLOAT
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < FLOAT:
        return value
    raise WorkloadError(f"{where}: width {value!r} is not an integer width or 'float32'")


def width_timeline(log, *, where="log"):
    """[(first step, {(layer, role): width})] from a log's decisions, in step order."""
    keys = tensor_keys()
    current, timeline = None, []
    for d in log.get("decisions") or []:
        try:
            step, layer, role, to = d["step"], d["layer"], d["role"], d["to"]
        except (KeyError, TypeError):
            raise WorkloadError(f"{where}: a decision without step/layer/role/to: {d!r}") from None
        at = f"{where}: decision at step {step}"
        if layer == "*":
            if to == "mixed":
                raise WorkloadError(f"{at}: 'mixed' widths without the per-tensor values "
                                    "(the log cannot be replayed)")
            current = dict.fromkeys(keys, _width_value(to, at))
        elif current is None:
            raise WorkloadError(f"{at}: a per-tensor change before any starting width")
        elif (layer, role) not in current:
            raise WorkloadError(f"{at}: unknown tensor {layer}/{role}")
        else:
            current = {**current, (layer, role): _width_value(to, at)}
        if timeline and timeline[-1][0] == step:
            timeline[-1] = (step, current)
        else:
            timeline.append((step, current))
    if not timeline or timeline[0][0] != 0:
        raise WorkloadError(f"{where}: no starting widths at step 0 in its decisions")
    return timeline


def _shapes(images, cache={}):
    if images not in cache:
        cache[images] = gemm_shapes(images)
    return cache[images]


def _step_gemms(widths, images):
    ops = _operand_widths(widths)
    return [Gemm(images, layer, kind, m, k, n, *ops[(layer, kind)])
            for layer, kind, m, k, n in _shapes(images)]


def run_workload(log, *, where="log"):
    """``[Counter(Gemm -> steps)]``, one per finished epoch of the log."""
    try:
        spe, batch = log["steps_per_epoch"], log["config"]["batch"]
        n_train, epochs = log["train_images"], log["epochs"]
    except (KeyError, TypeError):
        raise WorkloadError(f"{where}: needs steps_per_epoch, config.batch, train_images and "
                            "epochs") from None
    if not epochs:
        raise WorkloadError(f"{where}: no finished epoch yet")
    timeline = width_timeline(log, where=where)
    per_epoch = []
    for e in range(len(epochs)):
        count, t = Counter(), 0
        for pos in range(spe):
            step = e * spe + pos
            while t + 1 < len(timeline) and timeline[t + 1][0] <= step:
                t += 1
            images = min(batch, n_train - pos * batch)
            count[(t, images)] += 1
        epoch = Counter()
        for (t, images), steps in count.items():
            for g in _step_gemms(timeline[t][1], images):
                epoch[g] += steps
        per_epoch.append(epoch)
    return per_epoch


def full_batch(g, batch):
    """``(G, f)``: the GEMM ``G`` of the same layer, kind and widths in a step of ``batch``
    images, and ``f`` = g.images / batch. Every GEMM's batch dimension (M of forward and
    backward-data, K of backward-weight) is ``images`` times a per-image size, so a short step
    is priced as ``f`` of a full one."""
    if g.images == batch:
        return g, 1
    for layer, kind, m, k, n in _shapes(batch):
        if (layer, kind) == (g.layer, g.kind):
            return Gemm(batch, layer, kind, m, k, n, g.a, g.b, g.out), g.images / batch
    raise WorkloadError(f"no {g.layer} {g.kind} GEMM in the network")


def counts_per_width(epoch):
    """({width: MACs}, {width: bits}) of one epoch's GEMMs, as the training log counts them."""
    macs, bits = Counter(), Counter()
    for g, steps in epoch.items():
        macs[g.width] += steps * g.macs
        bits[g.a] += steps * g.m * g.k * g.a
        bits[g.b] += steps * g.k * g.n * g.b
        bits[g.out] += steps * g.m * g.n * g.out
    return macs, bits


def check_against_log(log, per_epoch, *, where="log"):
    """Refuse a replay whose MAC or bit counts differ from what the log recorded."""
    for e, (epoch, logged) in enumerate(zip(per_epoch, log["epochs"])):
        macs, bits = counts_per_width(epoch)
        for name, mine, theirs in (("MACs", macs, logged.get("macs_per_width")),
                                   ("bits moved", bits, logged.get("bits_moved_per_width"))):
            if {str(w): n for w, n in mine.items() if n} != theirs:
                raise WorkloadError(f"{where}: epoch {e + 1}: {name} per width replayed from the "
                                    f"decisions {dict(mine)} differ from the log's {theirs}")


def load(path):
    """(log, per-epoch workloads) of a run directory or log file, checked against the log
    (``ReportError`` for a log the report cannot read, ``WorkloadError`` when the replay
    disagrees with it)."""
    from flows.reports.report_inputs import read_log
    log_path, log = read_log(path)
    per_epoch = run_workload(log, where=log_path)
    check_against_log(log, per_epoch, where=log_path)
    return log, per_epoch
