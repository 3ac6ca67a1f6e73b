"""The tree's rules, checked on the source: imports flow one way and pages build no API URL by hand."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_app_never_imports_the_ui_or_the_jobs():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
                 if p.name != "app.py" and _imports(p) & {"components", "state", "jobs"}]
    assert offenders == []


def test_pages_and_states_take_api_urls_from_app_routes():
    files = [p for folder in ("components", "state") for p in (ROOT / folder).rglob("*.py")]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in files
                 for n, line in enumerate(p.read_text().splitlines(), 1) if "/api/v1" in line]
    assert offenders == []


def test_state_holds_page_states_only():
    """Pure helpers live in their service (issue 14): every state module is a Reflex state, except the follower."""
    allowed = {"__init__.py", "live.py"}
    offenders = [p.name for p in (ROOT / "state").glob("*.py")
                 if p.name not in allowed and "reflex" not in _imports(p)]
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, package: str) -> set[str]:
    """Modules of `package` this file imports when it is loaded (function-level imports run later, so they cannot
    make a cycle at import time; imports under `if TYPE_CHECKING:` never run)."""
    found = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith(package + ".")}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt in graph and not state.get(nxt) and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if not state.get(node) and (found := visit(node)):
            return found
    return []


def test_no_import_cycles_inside_a_package():
    packages = [p for base in ("app/services", "app/providers") for p in (ROOT / base).rglob("__init__.py")]
    cycles = {}
    for init in packages:
        package = _module_name(init)
        modules = {_module_name(p): p for p in init.parent.glob("*.py")}
        graph = {name: _top_level_imports(path, package) & set(modules) - {name} for name, path in modules.items()}
        if found := _cycle(graph):
            cycles[package] = " → ".join(found)
    assert cycles == {}
