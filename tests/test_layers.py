"""The library's layers stay apart: chapters read records and never train; the core never names a selector."""

import ast
import re
from pathlib import Path

from lossprio import selectors
from lossprio.cli import CHAPTER_KIT

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
    for module in ("train.py", "config.py", "bench.py", "assemble.py", "layout.py", "core.py"):
        text = (PACKAGE / module).read_text()
        # a quoted name that is not a subscript (the step log's ``["loss"]`` column is not the selector)
        named = [n for n in names if re.search(rf"""(?<!\[)["']{re.escape(n)}["']""", text)]
        assert not named, f"{module} names selectors {named}: let the selector declare what it needs"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each ``lossprio`` module and the ``lossprio`` modules it imports (anywhere in it, lazily
    too; ``if TYPE_CHECKING`` blocks left out), a package's own submodules as themselves."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(part for part in (base, node.module) if part)
                for alias in node.names:
                    found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in paths else module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def test_no_chapter_imports_another():
    chapters = {f"lossprio.chapters.{p.stem}" for p in (PACKAGE / "chapters").glob("*.py")}
    chapters -= {f"lossprio.chapters.{k}" for k in (*CHAPTER_KIT, "__init__")}
    assert len(chapters) >= 6
    for name, imports in import_graph().items():
        if name in chapters:
            assert not imports & chapters, f"{name} imports {sorted(imports & chapters)}"


def test_the_import_graph_has_no_circles():
    graph = import_graph()
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles: " + "; ".join(" → ".join(c) for c in circles)


def test_the_readme_layout_table_names_every_module():
    readme = (PACKAGE.parent / "README.md").read_text()
    table = readme[readme.index("## Layout") : readme.index("## Contributing")]
    missing = [
        p.relative_to(PACKAGE.parent).as_posix()
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.name != "__init__.py"
        and f"`{p.name}`" not in table
        and f"`{p.relative_to(PACKAGE.parent).as_posix()}`" not in table
    ]
    assert not missing, f"README's layout table leaves out {missing}"
