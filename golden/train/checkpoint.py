"""Training checkpoints: written with a digest of their content, read back validated.

A checkpoint is an ``.npz`` archive of the parameter arrays (``MasterParams.arrays()`` names:
int32/int64 master values in the fixed-point phase, float32 in the float32 phase) and ``state``,
the run's JSON state as UTF-8 bytes. ``read_checkpoint`` refuses, with one line naming the file,
anything that is not such a checkpoint: a damaged archive, a missing or extra array, a wrong
dtype, shape or range, a malformed state, or content that no longer matches the SHA-256 digest
it was written with (checkpoints written before the digest existed are read without it).
``check_resumable`` then checks the state against the run about to resume it, so a damaged or
foreign checkpoint never resumes into garbage nor writes a bogus epoch into the log.
"""

import hashlib
import json

import numpy as np

from ..files import save_npz
from ..formats import MAX_WIDTH, MIN_WIDTH
from ..inputs import InputError, read_npz
from .network import LAYERS, MasterParams, param_shapes, tensor_keys

MODES = ("fixed", "float")
ADVICE = "delete it (or the run folder) to start over, or restore an intact copy"


class CheckpointError(InputError):
    """A checkpoint that cannot be resumed; the message says why and what to do."""

    def __init__(self, path, problem):
        super().__init__(path, f"{problem}; {ADVICE}")


def digest(arrays, state):
    """SHA-256 over every array (name, dtype, shape, bytes) and the state without its digest."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(json.dumps({k: v for k, v in state.items() if k != "digest"},
                        sort_keys=True).encode())
    return h.hexdigest()


def narrow(a):
    """An int64 array as int32 when every value fits: checkpoints small enough to commit."""
    i32 = np.iinfo(np.int32)
    if a.dtype == np.int64 and (a.size == 0 or (i32.min <= a.min() and a.max() <= i32.max)):
        return a.astype(np.int32)
    return a


def widths_to_json(widths):
    """A run's widths ({(layer, role): width}, None for float32, or "unset") as JSON keys."""
    if widths is None or widths == "unset":
        return widths
    return {f"{k[0]}/{k[1]}": v for k, v in widths.items()}


def widths_from_json(w):
    """``widths_to_json`` undone."""
    if w is None or w == "unset":
        return w
    return {tuple(k.split("/")): v for k, v in w.items()}


def check_identity(path, state, identity):
    """``ValueError`` naming the fields that differ when ``path`` belongs to another run."""
    theirs = state["identity"]
    if theirs != identity:
        diff = ", ".join(f"{k}: {theirs.get(k)!r} there, {identity[k]!r} here"
                         for k in identity if theirs.get(k) != identity[k])
        raise ValueError(f"{path} belongs to another run ({diff}): "
                         f"use another --out, or delete the checkpoint to start over")


def write_checkpoint(path, arrays, state):
    """Save ``arrays`` and ``state`` (JSON-able dict) atomically, with their digest."""
    state = json.loads(json.dumps(state))   # as it reads back: string keys, no tuples
    state["digest"] = digest(arrays, state)
    blob = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    save_npz(path, compressed=True, state=blob, **arrays)


def read_checkpoint(path):
    """``(arrays, state)`` of a whole, self-consistent checkpoint; ``CheckpointError`` else."""
    try:
        arrays = read_npz(path, what="checkpoint")
    except InputError as exc:
        raise CheckpointError(path, str(exc).removeprefix(f"{path}: ")) from None
    blob = arrays.pop("state", None)
    if blob is None or blob.dtype != np.uint8 or blob.ndim != 1:
        raise CheckpointError(path, "no state (a uint8 array of JSON text): not a checkpoint")
    try:
        state = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(path, f"its state is not JSON text ({exc})") from None
    try:
        check_state(state)
        check_arrays(arrays, state)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(path, f"damaged checkpoint: {exc}") from None
    if "digest" in state and state["digest"] != digest(arrays, state):
        raise CheckpointError(path, "damaged checkpoint: its content does not match the digest "
                                    "it was written with (modified or corrupted since)")
    return arrays, state


def _need(state, key, kind, what=None):
    value = state.get(key, KeyError) if isinstance(state, dict) else KeyError
    if value is KeyError:
        raise KeyError(f"state has no {key!r}")
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise TypeError(f"state {key!r} must be {what or kind.__name__}, not {value!r:.60}")
    return value


def check_state(state):
    """The state's fields: present, of their types, in range, and consistent with each other."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be a JSON object, not {type(state).__name__}")
    for key in ("identity", "policy", "acc", "log"):
        _need(state, key, dict, "an object")
    for key in ("step", "epoch", "pos"):
        if _need(state, key, int, "an integer >= 0") < 0:
            raise ValueError(f"state {key!r} must be an integer >= 0, not {state[key]}")
    mode = _need(state, "mode", str, "a string")
    if mode not in MODES:
        raise ValueError(f"state 'mode' must be one of {', '.join(MODES)}, not {mode!r}")
    for key in ("w_frac", "b_frac"):
        _need(state, key, list, f"a list of {len(LAYERS)} integers")
    widths = state.get("widths", KeyError)
    if widths is KeyError:
        raise KeyError("state has no 'widths'")
    if widths is not None and widths != "unset":
        if not isinstance(widths, dict) or not all(
                isinstance(w, int) and not isinstance(w, bool) and MIN_WIDTH <= w <= MAX_WIDTH
                and isinstance(k, str) and k.count("/") == 1 for k, w in widths.items()):
            raise ValueError(f"state 'widths' must map layer/role to a width in "
                             f"[{MIN_WIDTH}, {MAX_WIDTH}], not {widths!r:.60}")
    if (mode == "float") != (widths is None):
        raise ValueError(f"state mode {mode!r} disagrees with its widths {widths!r:.40}")
    log = state["log"]
    for key, kind in (("epochs", list), ("decisions", list), ("config", dict),
                      ("complete", bool)):
        if not isinstance(log.get(key), kind):
            raise TypeError(f"state log {key!r} must be a {kind.__name__}")
    if not all(isinstance(e, dict) for e in log["epochs"]):
        raise TypeError("state log 'epochs' must hold objects")
    if len(log["epochs"]) != state["epoch"]:
        raise ValueError(f"state epoch {state['epoch']} but its log holds "
                         f"{len(log['epochs'])} finished epoch(s)")
    if log["config"] != state["identity"]:
        raise ValueError("state log 'config' differs from its identity")
    check_sums(state["acc"])
    if state["acc"]["steps"] != state["pos"]:
        raise ValueError(f"state pos {state['pos']} but {state['acc']['steps']} step(s) summed "
                         f"in the epoch")
    tracer = state.get("tracer")
    if tracer is not None and not (isinstance(tracer, dict)
                                   and isinstance(tracer.get("counts"), dict)):
        raise TypeError("state 'tracer' must be null or an object with 'counts'")


def _is_count(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_sums(acc):
    """The epoch's running sums (``EpochAccumulator.state_dict()``): numbers and counts."""
    for key, ok in (("loss", _is_number), ("wall", _is_number), ("images", _is_count),
                    ("steps", _is_count), ("update_clamped", _is_count)):
        if not ok(acc.get(key)):
            raise ValueError(f"state acc {key!r} must be a {ok.__name__[4:]}, "
                             f"not {acc.get(key)!r:.40}")
    tensors, formats = acc.get("tensors"), acc.get("formats")
    if not isinstance(tensors, dict) or not all(
            isinstance(k, str) and k.count("/") == 1 and isinstance(v, list) and len(v) == 3
            and all(map(_is_count, v)) for k, v in tensors.items()):
        raise ValueError("state acc 'tensors' must map layer/role to 3 counts")
    for key in ("macs", "bits"):
        counts = acc.get(key)
        if not isinstance(counts, dict) or not all(
                k.isdigit() and _is_count(v) for k, v in counts.items()):
            raise ValueError(f"state acc {key!r} must map widths to counts")
    if not isinstance(formats, dict) or not all(
            isinstance(k, str) and k.count("/") == 1 and isinstance(v, str)
            for k, v in formats.items()):
        raise ValueError("state acc 'formats' must map layer/role to formats")


def check_arrays(arrays, state):
    """Exactly the parameter arrays of the state's mode, each of its dtype, shape and range."""
    shapes = param_shapes()
    extra = sorted(set(arrays) - set(shapes))
    if extra:
        raise ValueError(f"unexpected array(s) {', '.join(extra)}")
    if state["mode"] == "fixed":
        MasterParams.from_arrays(arrays, w_frac=state["w_frac"], b_frac=state["b_frac"])
        return
    MasterParams.from_arrays({k: np.zeros(v, np.int64) for k, v in shapes.items()},
                             w_frac=state["w_frac"], b_frac=state["b_frac"])  # the fractions
    for name, shape in shapes.items():
        x = arrays.get(name)
        if x is None:
            raise ValueError(f"array {name} is missing")
        if x.dtype != np.float32 or x.shape != shape:
            raise ValueError(f"array {name} must be float32 of shape {shape} in the float32 "
                             f"phase, not {x.dtype} {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"array {name} holds NaN or infinity")


def check_resumable(path, state, *, epochs, steps_per_epoch, batch, fractions):
    """The state agrees with the run that resumes it (``CheckpointError`` else): its position
    (epoch, pos, step, images summed), its fixed-point fractions (``fractions`` = the run's
    (w_frac, b_frac), fixed by its seed) and its widths' tensors. A checkpoint of another run
    is refused by the caller, naming the fields that differ."""
    epoch, pos, step = state["epoch"], state["pos"], state["step"]
    widths = state["widths"]
    problem = None
    if (state["w_frac"], state["b_frac"]) != tuple(map(list, fractions)):
        problem = "its fixed-point fractions are not the run's"
    elif isinstance(widths, dict) and set(widths) != {f"{k[0]}/{k[1]}" for k in tensor_keys()}:
        problem = "its widths do not name every tensor of the network"
    elif (widths == "unset") != (step == 0):
        problem = f"widths {'unset' if step else 'set'} at step {step}"
    elif state["acc"]["images"] != pos * batch:
        problem = f"{state['acc']['images']} images summed in {pos} steps of {batch}"
    elif epoch > epochs:
        problem = f"epoch {epoch} is beyond the run's {epochs} epochs"
    elif pos >= steps_per_epoch or (epoch == epochs and pos):
        problem = f"position {pos} is beyond the epoch's {steps_per_epoch} steps"
    elif step != epoch * steps_per_epoch + pos:
        problem = (f"step {step} disagrees with epoch {epoch} at position {pos} "
                   f"({steps_per_epoch} steps per epoch)")
    elif state["log"]["complete"] and epoch != epochs:
        problem = f"its log says complete after {epoch} of {epochs} epochs"
    if problem:
        raise CheckpointError(path, f"damaged checkpoint: {problem}")
