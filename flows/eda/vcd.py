"""Toggle counts from a VCD file: per variable bit, the number of 0<->1 value changes.

Only changes between the two logic values count; a transition from or to x/z is not a toggle,
and a value written again unchanged (at ``$dumpvars``, ``$dumpon`` or a repeated entry) is not
either. Scalar changes are counted vectorised with NumPy, chunk by chunk, so files of
gigabytes pass in bounded memory; vector changes are compared bit by bit.
"""

from dataclasses import dataclass

import numpy as np

_CHUNK = 1 << 26
_SCALAR = np.zeros(256, dtype=bool)
_SCALAR[[ord(c) for c in "01xzXZ"]] = True
_VALUE = np.full(256, 2, dtype=np.int8)      # 0, 1, or 2 for x/z
_VALUE[ord("0")], _VALUE[ord("1")] = 0, 1
_NONE = 3                                    # no value seen yet


@dataclass(frozen=True)
class Var:
    scope: str      # dotted path of the enclosing scopes
    name: str       # reference name, without a bit range
    width: int
    code: str       # the VCD identifier code


def parse_header(f):
    """Read ``$var`` declarations up to ``$enddefinitions``; returns the list of ``Var``."""
    out, scope, words = [], [], []
    for line in f:
        words.extend(line.decode("latin-1").split())
        if "$end" not in words:
            continue
        if words[0] == "$scope":
            scope.append(words[2])
        elif words[0] == "$upscope":
            scope.pop()
        elif words[0] == "$var":
            out.append(Var(scope=".".join(scope), name=words[4], width=int(words[2]),
                           code=words[3]))
        elif words[0] == "$enddefinitions":
            return out
        words = []
    raise ValueError("VCD: no $enddefinitions")


def _code_key(codes_bytes, starts, lengths, maxlen):
    key = np.zeros(len(starts), dtype=np.int64)
    for k in range(maxlen):
        present = lengths > k
        key[present] |= codes_bytes[starts[present] + k].astype(np.int64) << (7 * k)
    return key


class ToggleCounts:
    """Toggle counts of every variable of a VCD: ``counts[code]`` is an int64 array, bit 0
    first (index i is bit i of the variable, LSB)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.vars = parse_header(f)
            by_code = {}
            for v in self.vars:
                by_code.setdefault(v.code, v.width)
            self._scalars = sorted(c for c, w in by_code.items() if w == 1)
            maxlen = max((len(c) for c in by_code), default=1)
            if maxlen > 9:
                raise ValueError("VCD: identifier codes longer than 9 characters")
            keys = np.array([sum(ord(ch) << (7 * k) for k, ch in enumerate(c))
                             for c in self._scalars], dtype=np.int64)
            order = np.argsort(keys)
            self._keys, self._index = keys[order], order
            n = len(self._scalars)
            self._toggles = np.zeros(n, dtype=np.int64)
            self._last = np.full(n, _NONE, dtype=np.int8)
            self._vectors = {c: [np.zeros(w, dtype=np.int64), None]
                             for c, w in by_code.items() if w > 1}
            tail = b""
            while True:
                block = f.read(_CHUNK)
                if not block:
                    break
                block = tail + block
                cut = block.rfind(b"\n") + 1
                tail = block[cut:]
                self._chunk(block[:cut], maxlen)
            if tail.strip():
                self._chunk(tail + b"\n", maxlen)
        self.counts = {c: np.array([self._toggles[i]]) for i, c in enumerate(self._scalars)}
        self.counts.update({c: v[0] for c, v in self._vectors.items()})

    def _chunk(self, block, maxlen):
        buf = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        nonempty = ends > starts
        starts, ends = starts[nonempty], ends[nonempty]
        first = buf[starts]
        scalar = _SCALAR[first]
        s_starts, s_ends = starts[scalar], ends[scalar]
        if len(s_starts):
            lengths = s_ends - s_starts - 1
            keys = _code_key(buf, s_starts + 1, lengths, maxlen)
            pos = np.searchsorted(self._keys, keys)
            pos = np.minimum(pos, len(self._keys) - 1)
            if len(self._keys) == 0 or not np.array_equal(self._keys[pos], keys):
                raise ValueError("VCD: value change for an undeclared scalar")
            self._count(self._index[pos], _VALUE[buf[s_starts]])
        for i in np.flatnonzero(first == ord("b")) if len(self._vectors) else ():
            word, code = block[starts[i] + 1:ends[i]].decode("latin-1").split()
            self._vector(code, word)

    def _count(self, idx, val):
        order = np.argsort(idx, kind="stable")
        idx, val = idx[order], val[order]
        head = np.ones(len(idx), dtype=bool)
        head[1:] = idx[1:] != idx[:-1]
        prev = np.empty_like(val)
        prev[1:] = val[:-1]
        prev[head] = self._last[idx[head]]
        tog = (prev != val) & (prev < 2) & (val < 2)
        self._toggles += np.bincount(idx[tog], minlength=len(self._toggles))
        tail = np.ones(len(idx), dtype=bool)
        tail[:-1] = idx[1:] != idx[:-1]
        self._last[idx[tail]] = val[tail]

    def _vector(self, code, word):
        counts, last = self._vectors[code]
        width = len(counts)
        fill = word[0] if word[0] in "xzXZ" else "0"
        word = word.rjust(width, fill)[-width:]
        bits = np.array([{"0": 0, "1": 1}.get(ch, 2) for ch in reversed(word)], dtype=np.int8)
        if last is not None:
            counts += (last != bits) & (last < 2) & (bits < 2)
        self._vectors[code][1] = bits

    def by_name(self, scope):
        """``{name: counts}`` of the variables declared directly in ``scope``."""
        return {v.name: self.counts[v.code] for v in self.vars if v.scope == scope}
