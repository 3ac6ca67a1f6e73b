"""UK spellings → US English, for the one-spelling rule of the UI, messages and docs (tests/unit/test_us_spelling.py).

Only words a user reads are in scope: prose strings (with a space) and capitalised labels. Lower-case
one-word strings are identifiers — JSON field names and query parameters (`colour`, `favourite`) that clients
may already send — and stay as they are.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

US = {
    "colour": "color", "colours": "colors", "coloured": "colored", "colourful": "colorful",
    "multicolour": "multicolor", "multicoloured": "multicolored", "watercolour": "watercolor",
    "recolour": "recolor", "grey": "gray", "greys": "grays", "greyscale": "grayscale", "greyed": "grayed",
    "favourite": "favorite", "favourites": "favorites", "favour": "favor", "analyse": "analyze",
    "analysed": "analyzed", "analyses": "analyzes", "analysing": "analyzing", "cancelled": "canceled",
    "cancelling": "canceling", "organise": "organize", "organised": "organized", "recognise": "recognize",
    "recognised": "recognized", "recognises": "recognizes", "optimise": "optimize", "optimised": "optimized",
    "customise": "customize", "customised": "customized", "licence": "license", "licences": "licenses",
    "behaviour": "behavior", "behaviours": "behaviors", "centre": "center", "centred": "centered",
    "centres": "centers", "metre": "meter", "metres": "meters", "normalise": "normalize",
    "normalised": "normalized", "summarise": "summarize", "summarised": "summarized", "authorise": "authorize",
    "authorised": "authorized", "prioritise": "prioritize", "catalogue": "catalog", "artefact": "artifact",
    "artefacts": "artifacts", "minimise": "minimize", "maximise": "maximize", "visualise": "visualize",
    "categorise": "categorize", "sanitise": "sanitize", "sanitised": "sanitized", "travelled": "traveled",
    "labelled": "labeled", "labelling": "labeling", "modelled": "modeled", "honour": "honor",
    "honoured": "honored", "honours": "honors", "neighbour": "neighbor", "neighbours": "neighbors",
    "theatre": "theater", "fibre": "fiber", "litre": "liter", "litres": "liters", "programme": "program",
    "defence": "defense", "utilise": "utilize", "realise": "realize", "realised": "realized",
    "emphasise": "emphasize", "finalise": "finalize", "synchronise": "synchronize", "initialise": "initialize",
    "serialise": "serialize", "serialised": "serialized", "apologise": "apologize", "specialise": "specialize",
}
UK_WORD = re.compile(r"\b(" + "|".join(sorted(US, key=len, reverse=True)) + r")\b", re.IGNORECASE)
# Vocabularies that must still understand a UK word someone types (prompt keywords, camera-name noise).
READS_UK_INPUT = {"app/services/generation/local/lexicon.py", "app/services/rename/naming.py"}


def to_us(text: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        us = US[word.lower()]
        return us.upper() if word.isupper() else us.capitalize() if word[0].isupper() else us
    return UK_WORD.sub(swap, text)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def visible(text: str, word: str) -> bool:
    """Prose, or a capitalised label; not a lower-case identifier such as a JSON field name."""
    return " " in text.strip() or word[0].isupper()


def python_hits(root: Path, folders: tuple[str, ...]) -> Iterator[tuple[str, int, str]]:
    """(path, line, word) for each UK word in a string a user may read, in the .py files under `folders`."""
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative in READS_UK_INPUT:
                continue
            tree = ast.parse(path.read_text())
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                    for match in UK_WORD.finditer(node.value):
                        if visible(node.value, match.group(0)):
                            yield relative, node.lineno, match.group(0)


CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def markdown_prose(text: str) -> str:
    """The text with code blocks and `code spans` blanked (identifiers and field names live there)."""
    return CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def markdown_hits(paths: list[Path]) -> Iterator[tuple[str, int, str]]:
    for path in paths:
        prose = markdown_prose(path.read_text())
        for match in UK_WORD.finditer(prose):
            yield path.name, prose.count("\n", 0, match.start()) + 1, match.group(0)
