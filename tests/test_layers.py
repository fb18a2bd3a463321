"""The library's layers stay apart: chapters read records and never train; the core never names a selector."""

import ast
import re
from pathlib import Path

from lossprio import selectors

PACKAGE = Path(__file__).resolve().parents[1] / "lossprio"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, resolved to ``lossprio.…`` for relative imports."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_chapters_import_neither_the_launcher_nor_the_training_loop():
    for path in sorted((PACKAGE / "chapters").glob("*.py")):
        imports = imported_modules(path)
        assert not imports & {"lossprio.launch", "lossprio.train", "lossprio.sweep"}, path.name


def test_the_core_names_no_selector():
    names = selectors.selector_names()
    for module in ("train.py", "config.py", "bench.py", "assemble.py", "store.py"):
        text = (PACKAGE / module).read_text()
        # a quoted name that is not a subscript (the step log's ``["loss"]`` column is not the selector)
        named = [n for n in names if re.search(rf"""(?<!\[)["']{re.escape(n)}["']""", text)]
        assert not named, f"{module} names selectors {named}: let the selector declare what it needs"
