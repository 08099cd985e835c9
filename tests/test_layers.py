"""The package's layout is its data flow: every import points down the phases.

The order (wibond/__init__.py says why each piece sits where it does):
common < config < dhcp < managers < boot < runtime < cli. A module may import its own
phase or any phase below it, never one above.
"""

from __future__ import annotations

import ast
import os

import pytest

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "wibond")
LAYERS = ["common", "config", "dhcp", "managers", "boot", "runtime", "cli"]


def _modules() -> list[tuple[str, str]]:
    out = []
    for dirpath, _dirs, files in os.walk(PKG):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, os.path.dirname(PKG))[:-3].replace(os.sep, ".")
                out.append((rel.removesuffix(".__init__"), path))
    return sorted(out)


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1  # wibond itself: the version only
    if parts[1] == "__main__":
        return len(LAYERS)
    return LAYERS.index(parts[1])


def _imports(module: str, path: str) -> list[tuple[int, str]]:
    tree = ast.parse(open(path, encoding="utf-8").read())
    is_pkg = path.endswith("__init__.py")
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_pkg else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target == "wibond":  # `from wibond import x`: x is the module imported
                out += [(node.lineno, f"wibond.{a.name}") for a in node.names if a.name != "__version__"]
            elif target.startswith("wibond"):
                out.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("wibond")]
    return out


def test_every_module_belongs_to_a_phase() -> None:
    for module, _path in _modules():
        parts = module.split(".")
        assert len(parts) == 1 or parts[1] in LAYERS or parts[1] == "__main__", \
            f"{module}: put it in one of {', '.join(LAYERS)} (wibond/__init__.py)"


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_down(module: str, path: str) -> None:
    here = _layer(module)
    up = [f"{os.path.relpath(path, os.path.dirname(PKG))}:{line}: imports {target}"
          for line, target in _imports(module, path) if _layer(target) > here]
    assert up == [], "an import points up the phases:\n" + "\n".join(up)


def test_the_package_inits_import_nothing_of_wibond() -> None:
    """A step imports wibond.config.model without configobj, wibond.common.paths without the
    rest of common: a subpackage's __init__ stays empty of imports."""
    for module, path in _modules():
        if path.endswith("__init__.py") and module not in ("wibond.dhcp", "wibond.managers"):
            assert _imports(module, path) == [], f"{path} imports: keep it a docstring"


def test_only_the_entry_script_imports_the_helper() -> None:
    """runtime/helper.py is wibond-helper's command table and main: the steps' context lives
    in runtime/context.py, so no module of the package imports the entry point."""
    importers = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module or ''}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.rpartition(".")[2] == "helper" for n in names):
                importers.append(f"{module}:{node.lineno}")
    assert importers == []
    with open(os.path.join(os.path.dirname(PKG), "helpers", "wibond-helper"), encoding="utf-8") as f:
        assert "wibond.runtime.helper" in f.read()
