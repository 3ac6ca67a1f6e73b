"""One spelling in what users read: US English, in pages, handlers' messages, the API's messages and the docs.

JSON field names and query parameters spelled the UK way before this rule (`colour`, `favourite`) stay for
the clients that send them; the API also reads `color` / `favorite` / `favorites` (tested below and in
tests/integration/test_generation.py).
"""

from pathlib import Path

from tests.spelling import markdown_hits, python_hits, to_us

ROOT = Path(__file__).resolve().parents[2]


def test_the_scanner_finds_uk_words_in_prose_and_labels_but_not_in_identifiers(tmp_path):
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "page.py").write_text(
        '"""A docstring may say colour."""\n'
        'LABEL = "Colour"\n'
        'TEXT = f"The {name} was cancelled"\n'
        'FIELD = row["colour"]\n')
    hits = [(line, word) for _, line, word in python_hits(tmp_path, ("components",))]
    assert hits == [(2, "Colour"), (3, "cancelled")]
    (tmp_path / "doc.md").write_text("Pick a colour.\n\n`colour` is a field.\n\n```\ngrey\n```\nGrey tones\n")
    assert [(line, word) for _, line, word in markdown_hits([tmp_path / "doc.md"])] == [(1, "colour"), (8, "Grey")]
    assert to_us("Colours are greyed; FAVOURITE") == "Colors are grayed; FAVORITE"


def test_pages_handlers_and_app_messages_use_us_spelling():
    hits = list(python_hits(ROOT, ("components", "state", "app")))
    assert not hits, "UK spellings a user reads: " + ", ".join(f"{p}:{n} {w}" for p, n, w in hits)


def test_readme_and_docs_use_us_spelling():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    hits = list(markdown_hits(docs))
    assert not hits, "UK spellings in the docs: " + ", ".join(f"{p}:{n} {w}" for p, n, w in hits)


def test_the_library_search_reads_color_as_well_as_colour_and_echoes_colour():
    from app.services.library.search import SearchQuery

    assert SearchQuery.from_params({"color": "Blue"}).colour == "Blue"
    assert SearchQuery.from_params({"colour": "red", "color": "Blue"}).colour == "red"  # the documented name wins
    assert SearchQuery.from_params({"color": "Blue"}).to_params()["colour"] == "Blue"
