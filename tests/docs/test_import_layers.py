"""The import graph keeps its layers (README, "Layout"): read from the sources with ``ast``,
so no module is imported, and a lazy import inside a function counts like any other.

- hw and golden are independent of each other, and import neither sim nor flows;
- sim imports nothing from flows;
- no module outside the command line (``flows.cli``) imports it.
"""

import ast
import functools
import pytest

from tests.support.paths import REPO as ROOT
PACKAGES = ("hw", "golden", "sim", "flows")


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Every project module ``path`` imports (``from pkg import mod`` names ``pkg.mod``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES}


@functools.lru_cache(maxsize=1)
def graph():
    return {module_name(p): imports(p)
            for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def within(module, package):
    return module == package or module.startswith(package + ".")


# (importing package, imported package it must not reach)
FORBIDDEN = [("hw", "golden"), ("hw", "sim"), ("hw", "flows"), ("golden", "hw"),
             ("golden", "sim"), ("golden", "flows"), ("sim", "flows")]


@pytest.mark.parametrize("source,target", FORBIDDEN)
def test_no_arrow_between_layers(source, target):
    arrows = sorted(f"{m} -> {i}" for m, deps in graph().items() if within(m, source)
                    for i in deps if within(i, target))
    assert arrows == []


def test_only_the_command_line_imports_the_command_line():
    arrows = sorted(f"{m} -> {i}" for m, deps in graph().items() if not within(m, "flows.cli")
                    for i in deps if within(i, "flows.cli"))
    assert arrows == []


def test_the_graph_sees_relative_and_lazy_imports():
    # The checker itself: a relative import resolves against the module's package, and an
    # import inside a function is an arrow too.
    deps = graph()
    assert "flows.eda.liberty" in deps["flows.eda.synth"]        # from .liberty import ...
    assert "hw.export" in deps["sim.runner"]                     # inside build()
    assert "flows.cli" in deps["flows.cli.verilog"]
    assert "hw.config" in deps["hw"]                             # __init__: from .config
