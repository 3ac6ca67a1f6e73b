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
