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


def _starts_a_path(node: ast.AST, *, bare_slash: bool = True) -> bool:
    """A literal path ("/x"), or a path constant of app/routes.py (`routes.RENAME`), that a URL is glued onto."""
    if isinstance(node, ast.FormattedValue):
        node = node.value
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "routes":
        return node.attr.isupper()
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/") \
        and (bare_slash or len(node.value) > 1)


# Each way a URL gets built by hand: an `/api` literal, an f-string or a `+` that starts with a path (literal or
# a routes constant: its query string belongs in a builder there), or the
# bare API prefix (`routes.API`, `from app.routes import API`) to glue one together.
_HAND_BUILT = (
    lambda n: isinstance(n, ast.Constant) and isinstance(n.value, str)
    and (n.value.startswith("/api") or "/api/v1" in n.value),
    lambda n: isinstance(n, ast.JoinedStr) and bool(n.values) and _starts_a_path(n.values[0]),
    lambda n: isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) and _starts_a_path(n.left, bare_slash=False),
    lambda n: isinstance(n, ast.Attribute) and n.attr == "API" and getattr(n.value, "id", "") == "routes",
    lambda n: isinstance(n, ast.ImportFrom) and n.module == "app.routes" and any(a.name == "API" for a in n.names),
)


def _hand_built_urls(source: str) -> list[int]:
    """The lines of `source` that build a URL by hand."""
    return sorted({node.lineno for node in ast.walk(ast.parse(source))
                   if any(rule(node) for rule in _HAND_BUILT)})


def test_pages_and_states_take_api_urls_from_app_routes():
    files = [p for folder in ("components", "state") for p in (ROOT / folder).rglob("*.py")]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in _hand_built_urls(p.read_text())]
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
def test_the_url_rule_sees_every_way_of_building_one():
    """Each of these once built a URL in a page; the rule above must catch every one."""
    hand_built = [
        'url = "/api/v1/assets/" + str(asset_id)',
        'url = f"/api/v1/assets/{asset_id}/thumbnail"',
        'url = f"/assets/{asset_id}"',
        'url = routes.API + "/decks"',
        'url = f"{routes.API}/decks/{deck_id}"',
        'from app.routes import API',
        "url = '/api' + path",
        'url = f"{routes.RENAME}?batch={batch_id}"',
        'href = routes.RENAME + "?batch=" + row["id"]',
    ]
    assert [_hand_built_urls(line) for line in hand_built] == [[1]] * len(hand_built)
    fine = ['url = routes.asset_url(asset_id)', 'text = f"{done}/{total} stored"',
            '"""Throttles like the API\'s 429s (app/api/guard.py)."""', 'path = routes.ASSETS',
            'label = count + "/" + needed', 'active = path == href + "/"']
    assert [_hand_built_urls(line) for line in fine] == [[]] * len(fine)


# Ways to learn who is signed in; outside state/session.py only background events (the decorators need the
# state lock a background event takes with `async with self`) and the invitation page (public) may ask.
_WHO_IS_SIGNED_IN = {"require_user", "session_user", "current_user", "user_for_session", "visitor"}
_MAY_ASK = {("state/invite.py", "load_page"), ("state/invite.py", "accept")}


def _decorator_names(fn: ast.AST) -> set[str]:
    return {ast.unparse(d) for d in fn.decorator_list}


def _guard_offenders(path: Path, source: str) -> list[str]:
    where = str(path)
    functions = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    # Background events (with the helpers nested in them, a follower's `step`) and the allowed public handlers.
    exempt = {id(inner) for fn in functions
              if "rx.event(background=True)" in _decorator_names(fn) or (where, fn.name) in _MAY_ASK
              for inner in ast.walk(fn)}
    found = []
    for fn in functions:
        decorators = _decorator_names(fn)
        params = [a.arg for a in fn.args.args]
        if len(params) > 1 and params[1] in ("user", "admin") and "rx.event" in decorators \
                and not decorators & {"signed_in", "admin_only"}:
            found.append((fn.lineno, f"{where}:{fn.lineno} {fn.name} takes `{params[1]}` from the browser"))
        if id(fn) in exempt:
            continue
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and id(call) not in exempt \
                    and getattr(call.func, "id", getattr(call.func, "attr", "")) in _WHO_IS_SIGNED_IN:
                found.append((call.lineno, f"{where}:{call.lineno} {fn.name} checks the session by hand"))
    return [text for _, text in sorted(set(found))]


def test_page_handlers_learn_the_user_from_the_decorator():
    offenders = [o for p in sorted((ROOT / "state").glob("*.py")) if p.name != "session.py"
                 for o in _guard_offenders(p.relative_to(ROOT), p.read_text())]
    assert offenders == []


def test_the_guard_rule_sees_a_hand_written_guard_and_a_user_from_the_browser():
    hand_written = '''
class S(rx.State):
    @rx.event
    async def delete(self, asset_id: str):
        user = await require_user(self)
        if user is None:
            return to_sign_in(self)

    @rx.event
    async def rename(self, user: UserPublic, name: str):
        pass

    @rx.event(background=True)
    async def follow(self):
        async with self:
            user = session_user(self)
'''
    found = _guard_offenders(Path("state/x.py"), hand_written)
    assert [o.split(" ", 2)[1] for o in found] == ["delete", "rename"]
    guarded = hand_written.replace("    async def rename", "    @signed_in\n    async def rename").replace(
        "async def delete(self, asset_id", "async def delete(self, user: UserPublic, asset_id").replace(
        "        user = await require_user(self)\n        if user is None:\n            return to_sign_in(self)\n",
        "        pass\n").replace("    async def delete", "    @signed_in\n    async def delete")
    assert _guard_offenders(Path("state/x.py"), guarded) == []


# Modules every page's state may import; and the pages whose state is split over several modules.
_SHARED_STATE = {"session", "live", "handoff", "event_context"}
_PAGE_OF = {"library": "assets", "slides_form": "slides", "slides_template": "slides", "generate_styles": "generate",
            "review_panel": "template_editor", "template_tools": "template_editor",
            "approval_workflow": "template_editor", "template_pictures": "template_editor"}


def _state_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) for each `state.<module>` this source imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("state."):
            found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("state.")]
    return found


def _cross_page_imports(name: str, source: str) -> list[str]:
    page = _PAGE_OF.get(name, name)
    return [f"state/{name}.py:{line} imports state.{module}" for line, module in _state_imports(source)
            if module not in _SHARED_STATE and _PAGE_OF.get(module, module) != page]


def test_no_state_imports_another_pages_state():
    """A page reaches another page through the shared modules (the handoff, an on_done event the component
    binds), never by importing that page's state: the Assets upload once fired the Rename page's handler."""
    offenders = [o for p in sorted((ROOT / "state").glob("*.py"))
                 for o in _cross_page_imports(p.stem, p.read_text())]
    assert offenders == []


def test_the_import_rule_sees_a_page_importing_another():
    source = "from state.rename import RenameState\nfrom state.session import signed_in\n" \
             "def f():\n    from state.workflows import WorkflowsState\n"
    assert _cross_page_imports("assets", source) == ["state/assets.py:1 imports state.rename",
                                                     "state/assets.py:4 imports state.workflows"]
    assert _cross_page_imports("slides_form", "from state.slides import SlidesState\n") == []
    assert _cross_page_imports("assets", "from state.library import LibraryState\n") == []
