"""PDF text through pypdf, as Markdown with headings guessed from font sizes.

pypdf rather than pdfminer.six: pypdf caps every decompression and parsing step (its `Configuration`),
so a crafted 1 MB PDF cannot inflate into gigabytes, while pdfminer.six inflates Flate streams without
a limit. pypdf's text visitor still reports each run of text with its font size, font and position,
which is all the heading and paragraph guesses below need.
"""

from __future__ import annotations

import io
import itertools
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Any

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from app.services.slides.engine.extract import DocumentError, escape_line

# Tighter than pypdf's defaults (75 MB per stream): slide sources are text, and a page's content
# stream is rarely above a few MB. Images are never decoded (we only extract text).
_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": 40_000_000,
    "zlib_maximum_output_length": 40_000_000,
    "lzw_maximum_output_length": 40_000_000,
    "run_length_maximum_output_length": 40_000_000,
    "stream_decoding_work_maximum_length": 120_000_000,
}
# pypdf raises its own errors for most damage, but a broken file can surface as almost anything.
_PDF_ERRORS = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError, zlib.error,
               NotImplementedError, OverflowError, ZeroDivisionError)
_PAGE_FURNITURE = re.compile(r"(?:page|seite|página|pagina)?\s*\d{1,4}(?:\s*(?:of|/|von|de|sur|di)\s*\d{1,4})?",
                             re.I)
_BULLET = re.compile(r"(?:[•●▪◦‣∙·▸►■□–—*-]|\d{1,2}[.)]|[a-z][)])\s+(\S.*)")
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_MEANINGLESS_TITLE = re.compile(r"(?:untitled|microsoft word|document\d*|slide\s*\d*|\S+\.(?:docx?|pdf|indd))\b",
                                re.I)
HEADING_RATIO = 1.15  # a line this much larger than body text is a heading
MIN_TEXT_CHARS = 20  # below this the PDF has no usable text layer (scanned pages)


@dataclass
class _Line:
    text: str
    size: float  # rendered font size in points
    y: float | None  # baseline height on the page; None when pypdf did not report it
    page: int
    bold: bool
    level: int = 0  # heading level, 0 for body text


def pdf_markdown(data: bytes, *, max_pages: int, max_chars: int) -> tuple[str, str, list[str]]:
    """(markdown, title, warnings) for a PDF; DocumentError when it is locked, damaged or has no text."""
    warnings: list[str] = []
    with apply_configuration(**_LIMITS):
        try:
            reader = PdfReader(io.BytesIO(data))
            # pypdf already tried the empty password, which opens "protected against editing" files.
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise _locked()
            count = len(reader.pages)
        except DependencyError as exc:
            raise _locked() from exc
        except _PDF_ERRORS as exc:
            raise DocumentError(f"The PDF is damaged and cannot be read ({str(exc)[:160]})") from exc
        lines: list[_Line] = []
        chars, blank = 0, 0
        for number in range(min(count, max_pages)):
            try:
                page_lines = _page_lines(reader.pages[number], number)
            except (FileNotDecryptedError, DependencyError) as exc:
                raise _locked() from exc
            except _PDF_ERRORS:
                warnings.append(f"Page {number + 1} could not be read and was skipped.")
                continue
            blank += not page_lines
            lines += page_lines
            chars += sum(len(line.text) + 1 for line in page_lines)
            if chars > max_chars and number + 1 < count:
                warnings.append(f"Only the first {number + 1} of {count} pages were read: the text limit was reached.")
                break
        else:
            if count > max_pages:
                warnings.append(f"Only the first {max_pages} of {count} pages were read.")
        title_hint = _metadata_title(reader)
    if sum(len(line.text.strip()) for line in lines) < MIN_TEXT_CHARS:
        raise DocumentError("The PDF has no text layer (it is probably scanned); run it through OCR or paste "
                            "the text instead", code="no_text")
    if blank:
        warnings.append(f"{blank} page(s) have no text (scanned pages?) and were skipped.")
    lines = _drop_page_furniture(lines)
    _mark_headings(lines)
    markdown = _to_markdown(lines)
    top = [line.text for line in lines if line.level == 1]
    return markdown, top[0] if top else title_hint, warnings


def _locked() -> DocumentError:
    return DocumentError("The PDF is password-protected; remove the password (print to PDF) and upload it again",
                         code="encrypted_document")


def _metadata_title(reader: PdfReader) -> str:
    try:
        title = " ".join(str((reader.metadata or {}).get("/Title") or "").split())
    except _PDF_ERRORS:
        return ""
    return "" if not title or _MEANINGLESS_TITLE.match(title) else title


def _page_lines(page: Any, number: int) -> list[_Line]:
    runs: list[list[tuple[str, float, float | None, bool]]] = [[]]

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        # Rendered size and baseline come from the text matrix times the current transformation matrix.
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        scale = (c * c + d * d) ** 0.5 or 1.0
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        bold = bool(font and _BOLD_FONT.search(str(font.get("/BaseFont", ""))))
        for i, piece in enumerate(str(text).split("\n")):
            if i:
                runs.append([])
            if piece.strip():
                # Only the first piece starts where the matrix says; later ones are on lines below it.
                runs[-1].append((piece, abs(float(size or 0)) * scale, y if i == 0 else None, bold))

    page.extract_text(visitor_text=visit)
    lines = []
    for run in runs:
        text = " ".join("".join(piece for piece, *_ in run).split())
        if not text:
            continue
        weights: Counter[float] = Counter()
        for piece, size, _, _ in run:
            weights[round(size * 2) / 2] += len(piece.strip())
        lines.append(_Line(text=text, size=weights.most_common(1)[0][0], y=run[0][2], page=number,
                           bold=all(bold for *_, bold in run)))
    return lines


def _drop_page_furniture(lines: list[_Line]) -> list[_Line]:
    """Without page numbers and the running headers/footers repeated at the top or bottom of most pages."""
    pages: dict[int, list[_Line]] = {}
    for line in lines:
        pages.setdefault(line.page, []).append(line)
    edges: Counter[str] = Counter()
    for page_lines in pages.values():
        edges.update({re.sub(r"\d+", "#", page_lines[0].text), re.sub(r"\d+", "#", page_lines[-1].text)})
    repeated = {text for text, seen in edges.items() if len(pages) >= 3 and seen >= max(3, len(pages) / 2)}
    return [line for line in lines
            if not _PAGE_FURNITURE.fullmatch(line.text) and re.sub(r"\d+", "#", line.text) not in repeated]


def _mark_headings(lines: list[_Line]) -> None:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    larger = sorted({line.size for line in lines if line.size >= body * HEADING_RATIO}, reverse=True)[:3]
    for i, line in enumerate(lines):
        short = len(line.text) <= 150 and not line.text.endswith((",", ";"))
        if line.size in larger and short:
            line.level = larger.index(line.size) + 1
        elif line.bold and len(line.text) <= 80 and not line.text.endswith((".", ",", ";")) and (
                i + 1 == len(lines) or not lines[i + 1].bold):
            # A short line set in bold at body size, on its own: a run-in heading below the sized ones.
            line.level = len(larger) + 1


def _body_gap(lines: list[_Line]) -> float | None:
    gaps = [a.y - b.y for a, b in itertools.pairwise(lines)
            if a.page == b.page and not a.level and not b.level and a.y is not None and b.y is not None
            and 0 < a.y - b.y < a.size * 4]
    return median(gaps) if gaps else None


def _to_markdown(lines: list[_Line]) -> str:
    gap = _body_gap(lines)
    blocks: list[str] = []
    current: list[str] = []
    kind = ""  # "p" or "li" for the block being built

    def flush() -> None:
        if current:
            text = escape_line(" ".join(current))
            blocks.append(("- " + text) if kind == "li" else text)
            current.clear()

    previous: _Line | None = None
    for line in lines:
        if line.level:
            flush()
            if previous and previous.level == line.level and previous.page == line.page and blocks:
                blocks[-1] += " " + line.text  # a heading wrapped over two lines
            else:
                blocks.append("#" * line.level + " " + line.text)
        elif bullet := _BULLET.fullmatch(line.text):
            flush()
            kind = "li"
            current.append(bullet.group(1))
        else:
            if previous is None or previous.level or not current or _breaks(previous, line, gap):
                flush()
                kind = "p"
            # otherwise the line continues the paragraph or list item above it
            if current and re.search(r"[^\W\d_]-$", current[-1]) and line.text[:1].islower():
                current[-1] = current[-1][:-1] + line.text  # a word hyphenated at the line end
            else:
                current.append(line.text)
        previous = line
    flush()
    # Items of one list stay together; everything else is a paragraph of its own.
    out = ""
    for i, block in enumerate(blocks):
        together = i and block.startswith("- ") and blocks[i - 1].startswith("- ")
        out += ("\n" if together else "\n\n") + block if out else block
    return out


def _breaks(previous: _Line, line: _Line, gap: float | None) -> bool:
    """Whether `line` starts a new paragraph after `previous`."""
    if previous.page != line.page:
        return previous.text.endswith((".", "!", "?", ":"))  # a sentence running on to the next page continues
    if gap is not None and previous.y is not None and line.y is not None:
        return previous.y - line.y > gap * 1.35 or previous.y < line.y
    return False
