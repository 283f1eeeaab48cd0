"""Liberty standard-cell libraries: find, decompress (cached under build/) and read them.

The parsed library is ``flows.eda.liberty_cells``, read by ``flows.eda.liberty_parse``.
Only what the energy model and the gate-level cell models need is kept: units, supply voltage,
the default wire-load model, and per cell its area, leakage, pins (direction, capacitance,
function, clock flags), ``internal_power`` tables and ``ff``/``latch`` groups. Values are
converted to SI units (farad, joule, watt, second) when read.
"""

import gzip
import hashlib
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from golden.files import write_atomic

from .liberty_cells import Cell, Library, Pin, PowerArc, Table
from .liberty_parse import drop_cells, parse_liberty

# name -> (file in the liberty directory, integrated clock-gate cell, cells never to map to)
LIBRARIES = {
    "nangate45": ("nangate45_typ.lib.gz", "CLKGATE_X1", ()),
    "sky130": ("sky130_fd_sc_hd__tt_025C_1v80.lib.gz", "sky130_fd_sc_hd__dlclkp_1",
               ("sky130_fd_sc_hd__lpflow_*",)),
}
_CACHE_VERSION = 3   # of the parsed library's JSON; part of the cache key


# The libraries shipped with the repository (their README gives provenance and licences).
SHIPPED = Path(__file__).resolve().parent / "libraries"


def liberty_dir():
    """``$VARIMAC_LIBERTY`` when set, else the libraries shipped in ``flows/eda/libraries/``."""
    env = os.environ.get("VARIMAC_LIBERTY")
    return Path(env) if env else SHIPPED


def liberty_source(name):
    """Path of the (compressed) liberty file of library ``name``; ``ValueError`` if missing."""
    if name not in LIBRARIES:
        raise ValueError(f"unknown liberty library {name!r}; choose from "
                         f"{', '.join(sorted(LIBRARIES))}")
    directory = liberty_dir()
    path = directory / LIBRARIES[name][0]
    if not path.is_file():
        raise ValueError(f"liberty file {path} not found (VARIMAC_LIBERTY={directory})")
    return path


def prepare_liberty(name, *, build_dir):
    """Decompress library ``name`` into ``build_dir/liberty`` once, dropping its never-use cells.

    Returns ``(lib_path, library)``: the plain-text file for Yosys and the parsed ``Library``.
    Both are cached under names keyed by what they derive from (the compressed file's content,
    the dropped cells, the cache format), written atomically (concurrent runs each write whole
    files under unique temporary names); the parsed library is plain JSON, never a pickle, and
    a cache that does not decode is parsed again.
    """
    source = liberty_source(name)
    data = source.read_bytes()
    key = hashlib.sha256(b"\0".join([data, repr(LIBRARIES[name][2]).encode(),
                                      str(_CACHE_VERSION).encode()])).hexdigest()[:16]
    out = Path(build_dir) / "liberty"
    out.mkdir(parents=True, exist_ok=True)
    lib_path = out / f"{name}-{key}.lib"
    json_path = out / f"{name}-{key}.json"
    if not lib_path.is_file():
        text = drop_cells(gzip.decompress(data).decode("latin-1"), LIBRARIES[name][2])
        write_atomic(lib_path, lambda f: f.write(text.encode("latin-1")), mode="wb")
    library = _read_cache(json_path)
    if library is None:
        library = parse_liberty(lib_path.read_text(encoding="latin-1"))
        write_atomic(json_path, lambda f: json.dump(encode(library), f))
    return lib_path, library


def _read_cache(path):
    try:
        with open(path) as f:
            library = _decode(json.load(f))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return library if isinstance(library, Library) else None


def encode(x):
    """Plain JSON for the parsed library: dataclasses, arrays and tuples tagged by kind."""
    if dataclasses.is_dataclass(x):
        return {"class": type(x).__name__,
                "fields": {f.name: encode(getattr(x, f.name)) for f in dataclasses.fields(x)}}
    if isinstance(x, np.ndarray):
        return {"array": x.dtype.str, "shape": list(x.shape), "data": x.ravel().tolist()}
    if isinstance(x, tuple):
        return {"tuple": [encode(v) for v in x]}
    if isinstance(x, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in x.items()]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    return x


def _decode(x):
    if isinstance(x, list):
        return [_decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "class" in x:
        cls = _CACHED[x["class"]]   # KeyError for anything else: the cache is rebuilt
        return cls(**{k: _decode(v) for k, v in x["fields"].items()})
    if "array" in x:
        if np.dtype(x["array"]).kind not in "fiub":
            raise ValueError("only numeric arrays")
        return np.array(x["data"], dtype=x["array"]).reshape(x["shape"])
    if "tuple" in x:
        return tuple(_decode(v) for v in x["tuple"])
    return {_decode(k): _decode(v) for k, v in x["dict"]}


def icg_cell(name):
    """The integrated clock-gate cell used with library ``name``."""
    return LIBRARIES[name][1]


_CACHED = {cls.__name__: cls for cls in (Library, Cell, Pin, PowerArc, Table)}
