"""The generator's export: the accelerator's Verilog and its ``params.json``, and the ports of a
module in such Verilog text.

hw imports no golden, so the caller hands over its atomic writer (``golden.files.write_atomic``,
varimac's one way to write a file): a killed run never leaves a partial ``varimac.v`` that a
cached build would take for a complete one.
"""

import os
import re

VERILOG = "varimac.v"
PARAMS = "params.json"

_PORT = re.compile(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?"
                   r"(?:\[(\d+):(\d+)\]\s*)?([A-Za-z_][A-Za-z0-9_$]*)\s*;", re.M)


def verilog_files(config, *, platform=None):
    """``{file name: text}``: the Verilog (``hw.top.generate_verilog``, ``platform`` as there) and
    the parameters it was generated from (``AccelConfig.to_json``)."""
    from .top import generate_verilog
    return {VERILOG: generate_verilog(config, platform=platform), PARAMS: config.to_json()}


def write_verilog(config, out_dir, *, write_atomic, platform=None):
    """Write ``out_dir``/varimac.v and params.json, each through ``write_atomic(path, write)``;
    returns the Verilog's path."""
    os.makedirs(out_dir, exist_ok=True)
    for name, content in verilog_files(config, platform=platform).items():
        write_atomic(os.path.join(out_dir, name), lambda f, content=content: f.write(content))
    return os.path.join(out_dir, VERILOG)


def top_ports(verilog, top):
    """``[(direction, name, width), ...]`` of module ``top`` in Verilog text."""
    m = re.search(rf"^module\s+\\?{re.escape(top)}\s*\(", verilog, re.M)
    if not m:
        raise ValueError(f"no module {top} in the Verilog")
    end = verilog.index("endmodule", m.end())
    return [(d, name, int(hi) - int(lo) + 1 if hi else 1)
            for d, hi, lo, name in _PORT.findall(verilog[m.end():end])]
