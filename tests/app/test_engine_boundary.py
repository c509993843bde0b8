"""app/ uses the engine through its public names only: no `from engine... import _x`,
no private module, no `obj._attr` on anything but the class's own `self` / `cls`
(issue 13 item 2: the app used to read a pooling layer's `_cache` and import `_Pool`)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_app_imports_and_reads_no_private_engine_name():
    found = []
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(APP.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine"):
                parts = (node.module or "").split(".") + [a.name for a in node.names]
                found += [f"{where} {node.module} import {p}" for p in parts if _private(p)]
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                owner = node.value.id if isinstance(node.value, ast.Name) else None
                if owner not in ("self", "cls"):
                    found.append(f"{where} {ast.unparse(node)}")
    assert found == []
