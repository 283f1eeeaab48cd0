"""Memory configurations of the system model: an on-chip buffer and DRAM, each number sourced.

A configuration is a small JSON file (``flows/system/memory/*.json``)::

    {"name": "edge", "description": "...",
     "buffer": {"bytes": 32768, "bits_per_cycle": 256, "pj_per_64_bits": 20, "source": "..."},
     "dram": {"bytes_per_second": 2e8, "pj_per_64_bits": 2600, "source": "..."}}

Energies are per 64-bit access, as Horowitz's ISSCC 2014 table states them. The PE registers
are not configured: their energy is inside the measured energy per MAC (``varimac power``).
"""

import json
import os
from dataclasses import dataclass

HERE = os.path.join(os.path.dirname(__file__), "memory")
BUILTIN = ("edge", "large")
_FIELDS = {"name": str, "description": str, "buffer": dict, "dram": dict}
_BUFFER = ("bytes", "bits_per_cycle", "pj_per_64_bits", "source")
_DRAM = ("bytes_per_second", "pj_per_64_bits", "source")


class MemoryConfigError(ValueError):
    """A memory configuration file that the model cannot use."""


@dataclass(frozen=True)
class MemoryConfig:
    name: str
    description: str
    buffer_bytes: int
    buffer_bits_per_cycle: int
    buffer_pj_per_bit: float
    dram_bytes_per_second: float
    dram_pj_per_bit: float
    sources: dict

    def dram_bits_per_cycle(self, period_ns):
        """DRAM bandwidth in bits per accelerator clock (at least 1)."""
        return max(1, int(self.dram_bytes_per_second * 8 * period_ns * 1e-9))

    def key(self):
        """What the cost of a GEMM depends on (for caching)."""
        return (self.buffer_bytes, self.buffer_bits_per_cycle, self.buffer_pj_per_bit,
                self.dram_bytes_per_second, self.dram_pj_per_bit)


def _number(section, data, field, where, *, integer=False):
    value = data.get(field)
    ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    if not ok or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise MemoryConfigError(f"{where}: {section}.{field} must be {kind}, not {value!r}")
    return value


def _section(data, section, fields, where):
    part = data[section]
    missing = [f for f in fields if f not in part]
    unknown = sorted(set(part) - set(fields))
    if missing or unknown:
        what = (f"missing {', '.join(missing)}" if missing else "") + \
               ("; " if missing and unknown else "") + \
               (f"unknown {', '.join(unknown)}" if unknown else "")
        raise MemoryConfigError(f"{where}: {section}: {what} (fields: {', '.join(fields)})")
    if not isinstance(part["source"], str) or not part["source"].strip():
        raise MemoryConfigError(f"{where}: {section}.source must say where its numbers come from")
    return part


def parse(data, *, where="memory config"):
    """A validated ``MemoryConfig`` from a decoded JSON object."""
    if not isinstance(data, dict):
        raise MemoryConfigError(f"{where}: not a JSON object")
    missing = [f for f in _FIELDS if f not in data]
    unknown = sorted(set(data) - set(_FIELDS))
    if missing or unknown:
        raise MemoryConfigError(f"{where}: " + (f"missing {', '.join(missing)}" if missing else
                                                f"unknown field(s) {', '.join(unknown)}")
                                + f" (fields: {', '.join(_FIELDS)})")
    for field, kind in _FIELDS.items():
        if not isinstance(data[field], kind):
            raise MemoryConfigError(f"{where}: {field} must be a JSON "
                                    f"{'string' if kind is str else 'object'}")
    buf = _section(data, "buffer", _BUFFER, where)
    dram = _section(data, "dram", _DRAM, where)
    return MemoryConfig(
        name=data["name"], description=data["description"],
        buffer_bytes=_number("buffer", buf, "bytes", where, integer=True),
        buffer_bits_per_cycle=_number("buffer", buf, "bits_per_cycle", where, integer=True),
        buffer_pj_per_bit=_number("buffer", buf, "pj_per_64_bits", where) / 64,
        dram_bytes_per_second=_number("dram", dram, "bytes_per_second", where),
        dram_pj_per_bit=_number("dram", dram, "pj_per_64_bits", where) / 64,
        sources={"buffer": buf["source"], "dram": dram["source"]})


def load(spec):
    """A configuration from a file path, or a built-in name (``edge``, ``large``)."""
    path = os.path.join(HERE, f"{spec}.json") if spec in BUILTIN else spec
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as exc:
        raise MemoryConfigError(f"{spec}: cannot read it ({exc.strerror}); give a JSON file or "
                                f"one of {', '.join(BUILTIN)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MemoryConfigError(f"{path}: not valid JSON ({exc})") from None
    return parse(data, where=path)
