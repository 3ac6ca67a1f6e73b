"""Text from an uploaded source document (.md, .txt, .docx, .pdf), as Markdown for the slide engines.

The bytes decide what a file is, not its name: a ".pdf" that is really a ZIP archive is refused, so
nothing reaches a parser it was not meant for. Word documents are read with python-docx (headings,
lists and tables come out as Markdown structure), PDFs with pypdf (see `extract_pdf`). Every input
is bounded: file size, unpacked size of a .docx, number of PDF pages, and characters kept.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from app.errors import TooLarge, ValidationFailed
from app.services import scan

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100
MAX_CHARS = 200_000  # DeckSpec.source_text takes at most this many characters
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # python-docx holds every part of the package in memory
MAX_ZIP_ENTRIES = 2000

Kind = Literal["text", "docx", "pdf"]
# What each accepted file name ending promises; the content must agree.
EXTENSIONS: dict[str, Kind] = {".md": "text", ".markdown": "text", ".txt": "text", ".text": "text",
                               ".docx": "docx", ".pdf": "pdf"}
_KIND_NAMES = {"text": "a text or Markdown file", "docx": "a Word document", "pdf": "a PDF"}
# Formats people upload by mistake, recognised by their first bytes, with what to do instead.
_FOREIGN = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.doc) or a password-protected document",
     "save it as .docx without a password"),
    (b"{\\rtf", "an RTF document", "save it as .docx"),
    (b"\x89PNG", "a PNG image", "upload a document"),
    (b"\xff\xd8\xff", "a JPEG image", "upload a document"),
    (b"GIF8", "a GIF image", "upload a document"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
    (b"Rar!", "a RAR archive", "unpack it first"),
)
_ZIP_FLAVOURS = (("xl/workbook.xml", "an Excel workbook"), ("ppt/presentation.xml", "a PowerPoint presentation"),
                 ("content.xml", "an OpenDocument file"))


class DocumentError(ValidationFailed):
    """The upload cannot be used as a source; the message says why and what to do."""

    code = "unreadable_document"


@dataclass
class ExtractedDocument:
    markdown: str  # headings as #, lists as -, tables as Markdown tables
    title: str  # the document's own title, else one made from the file name
    warnings: list[str] = field(default_factory=list)  # things the user should know (truncated, re-encoded…)
    kind: Kind = "text"


def extract_text(*, data: bytes, filename: str, max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES,
                 max_chars: int = MAX_CHARS, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> ExtractedDocument:
    """The text of an uploaded .md, .txt, .docx or .pdf file as Markdown.

    Raises TooLarge above `max_bytes`, DocumentError for anything unusable (wrong type, damaged,
    password-protected, a scanned PDF without text). Text beyond `max_chars` is cut with a warning.
    """
    name = PurePath(filename or "").name
    if len(data) > max_bytes:
        raise TooLarge(f"{name or 'The file'} is {_mb(len(data))}; the limit is {_mb(max_bytes)}")
    scan.require_clean(data, name=name or "The document", where="slide source")  # before any parser reads it
    if not data.strip():
        raise DocumentError(f"{name or 'The file'} is empty", code="empty_document")
    suffix = PurePath(name).suffix.lower()
    if suffix and suffix not in EXTENSIONS:
        raise DocumentError(f"{name}: {suffix} files are not supported; upload .md, .txt, .docx or .pdf",
                            code="unsupported_document")
    kind = sniff_kind(data, name)
    promised = EXTENSIONS.get(suffix)
    if promised and promised != kind:
        raise DocumentError(f"{name} is named like {_KIND_NAMES[promised]} but its content is "
                            f"{_KIND_NAMES[kind]}; rename it or export it again", code="mismatched_document")
    if kind == "pdf":
        from app.services.slides.engine.extract_pdf import pdf_markdown  # pypdf is imported only when needed

        markdown, title, warnings = pdf_markdown(data, max_pages=max_pages, max_chars=max_chars)
    elif kind == "docx":
        markdown, title, warnings = _docx_markdown(data, max_unzipped_bytes=max_unzipped_bytes)
    else:
        markdown, warnings = _decode_text(data, name)
        title = _markdown_title(markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not re.search(r"\w", markdown):
        raise DocumentError(f"{name or 'The file'} contains no text", code="empty_document")
    if len(markdown) > max_chars:
        warnings.append(f"The document has {len(markdown):,} characters; only the first {max_chars:,} are used.")
        markdown = truncate_markdown(markdown, max_chars)
    return ExtractedDocument(markdown=markdown, title=(title or title_from_filename(name))[:200],
                             warnings=warnings, kind=kind)


def sniff_kind(data: bytes, name: str = "") -> Kind:
    """What the bytes are: "pdf", "docx" or "text"; DocumentError for anything else."""
    label = name or "The file"
    # Readers accept a PDF header anywhere in the first 1024 bytes; one that is not at the start only
    # counts with an end-of-file marker too, so a text that mentions "%PDF-" stays text.
    if data.lstrip()[:5] == b"%PDF-" or (b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"  # which kind of ZIP it is gets checked before parsing, in _open_docx
    for magic, what, advice in _FOREIGN:
        if data.startswith(magic):
            raise DocumentError(f"{label} is {what}; {advice}", code="unsupported_document")
    if not _has_text_bom(data) and b"\x00" in data[:8192]:
        raise DocumentError(f"{label} is a binary file, not text; upload .md, .txt, .docx or .pdf",
                            code="unsupported_document")
    return "text"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")


def title_from_filename(name: str) -> str:
    """'q3_sales-review.final.md' → 'Q3 sales review final'."""
    stem = re.sub(r"[_\-.]+", " ", PurePath(name).stem).strip()
    return (stem[:1].upper() + stem[1:]) if stem else "Untitled"


def truncate_markdown(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a paragraph or line end when one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for sep in ("\n\n", "\n", ". "):
        at = cut.rfind(sep)
        if at >= limit * 0.8:
            return cut[:at + (1 if sep == ". " else 0)].rstrip()
    return cut.rstrip()


def escape_line(text: str) -> str:
    """Plain text made safe to start a Markdown line: a leading '#', '>', '- ' or '1.' stays text."""
    text = " ".join(text.split())
    if re.match(r"\d+[.)](?:\s|$)", text):
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", text, count=1)
    if re.match(r"(?:[#>|]|[-*+](?:\s|$)|[=-]+$)", text):
        return "\\" + text
    return text


def markdown_table(rows: list[list[str]]) -> str:
    """Rows (the first is the header) as a Markdown pipe table."""
    width = max(len(r) for r in rows)
    cells = [[" ".join(c.split()).replace("|", "\\|") for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


# --- plain text and Markdown ---------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _has_text_bom(data: bytes) -> bool:
    return any(data.startswith(bom) for bom, _ in _BOMS)


def _decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    warnings: list[str] = []
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        if encoding:
            raise DocumentError(f"{name or 'The file'} says it is {encoding} but is not valid {encoding}",
                                code="unreadable_document") from exc
        # Windows-1252 maps almost every byte, so old Windows "ANSI" files come out right; the rest is replaced.
        text = data.decode("cp1252", errors="replace")
        warnings.append("The file is not UTF-8; it was read as Windows-1252 (Western European). "
                        "Check accented letters, or save it as UTF-8.")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if controls > max(2, len(text) // 200):
        raise DocumentError(f"{name or 'The file'} looks like a binary file, not text", code="unsupported_document")
    return text, warnings


def _markdown_title(text: str) -> str:
    match = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.M) or re.search(r"^(\S.*)\n=+[ \t]*$", text, re.M)
    if match:
        return " ".join(match.group(1).split())
    first = text.strip().split("\n\n", 1)[0].strip()
    # A .txt whose first paragraph is one short line, not a sentence: that line is its title.
    return first if first and "\n" not in first and len(first) <= 80 and not first.endswith((".", "!", "?")) else ""


# --- Word (.docx) --------------------------------------------------------------------------------

# What a damaged or unusual package raises from zipfile, zlib, lxml and python-docx.
_DOCX_ERRORS = (ValueError, KeyError, IndexError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                RuntimeError, etree.LxmlError, PackageNotFoundError)


def _open_docx(data: bytes, *, max_unzipped_bytes: int) -> Document:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DocumentError("The Word document is damaged (not a readable ZIP package)") from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            what = next((w for marker, w in _ZIP_FLAVOURS if marker in names), "a ZIP archive")
            raise DocumentError(f"The file is {what}, not a Word document; upload .md, .txt, .docx or .pdf",
                                code="unsupported_document")
        # Declared sizes can be trusted as a ceiling: zipfile never inflates a member past its declared
        # size (a lying header ends in a CRC error), so this check bounds the memory python-docx uses.
        unzipped = sum(info.file_size for info in infos)
        if len(infos) > MAX_ZIP_ENTRIES or unzipped > max_unzipped_bytes:
            raise DocumentError(f"The Word document unpacks to {_mb(unzipped)} in {len(infos)} parts, more than "
                                f"the {_mb(max_unzipped_bytes)} allowed; remove large images or split it",
                                code="document_too_large")
    try:
        return Document(io.BytesIO(data))
    except _DOCX_ERRORS as exc:
        # e.g. a macro-enabled .docm, a missing part, broken XML or a damaged compressed stream
        raise DocumentError(f"The Word document cannot be read ({str(exc)[:160]})") from exc


def _style_chain(paragraph: Paragraph) -> list[BaseStyle]:
    style, chain = paragraph.style, []
    while style is not None and len(chain) < 6:  # custom styles inherit from "Heading 1" and friends
        chain.append(style)
        style = style.base_style
    return chain


def _heading_level(paragraph: Paragraph, chain: list[BaseStyle]) -> int | None:
    """0 for "Title", 1 for "Heading 1", 2 for "Heading 2"…; also custom styles that set an outline level."""
    for style in chain:
        name = (style.name or "").strip().lower()
        if name == "title":
            return 0
        if match := re.fullmatch(r"heading\s*(\d)", name):
            return int(match.group(1))
    # python-docx has no API for outline levels or list numbering: read the paragraph's XML.
    for element in (paragraph._p, *(s.element for s in chain)):
        level = element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if level and level[0].isdigit() and int(level[0]) < 9:  # 9 means "body text"
            return int(level[0]) + 1
    return None


def _list_prefix(paragraph: Paragraph, chain: list[BaseStyle]) -> str | None:
    names = [(s.name or "").lower() for s in chain]
    numbered = paragraph._p.xpath("./w:pPr/w:numPr")
    if not numbered and not any(n.startswith("list") for n in names):
        return None
    ilvl = paragraph._p.xpath("./w:pPr/w:numPr/w:ilvl/@w:val")
    styled = re.search(r"(\d)$", names[0]) if names else None  # "List Bullet 2" is the second level
    depth = int(ilvl[0]) if ilvl and ilvl[0].isdigit() else int(styled.group(1)) - 1 if styled else 0
    indent = "  " * min(max(depth, 0), 4)
    return indent + ("1. " if any("number" in n for n in names) else "- ")


def _docx_markdown(data: bytes, *, max_unzipped_bytes: int) -> tuple[str, str, list[str]]:
    document = _open_docx(data, max_unzipped_bytes=max_unzipped_bytes)
    try:
        items = _docx_items(document)
        title = (document.core_properties.title or "").strip()
    except _DOCX_ERRORS as exc:
        raise DocumentError(f"The Word document cannot be read ({str(exc)[:160]})") from exc
    headings = [(level, text) for kind, text, level in items if kind == "heading"]
    # "Title" becomes the one H1 and headings move down a level; without it, "Heading 1" is the H1.
    shift = 1 if any(level == 0 for level, _ in headings) else 0
    parts: list[str] = []
    for i, (kind, text, level) in enumerate(items):
        if kind == "heading":
            text = "#" * min(6, max(1, level + shift)) + " " + text
        joined = i and kind in ("list", "quote") and items[i - 1][0] == kind  # keep a list or quote together
        parts.append((("\n" if joined else "\n\n") + text) if parts else text)
    if not title and headings:
        title = min(headings, key=lambda h: h[0])[1]
    return "".join(parts), " ".join(title.split()), []


def _docx_items(document: Document) -> list[tuple[str, str, int]]:
    """(block kind, text or Markdown, heading level) for each paragraph and table, in document order."""
    items: list[tuple[str, str, int]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            if rows and any(any(c.strip() for c in r) for r in rows):
                items.append(("table", markdown_table(rows), 0))
            continue
        text = " ".join(block.text.split())
        if not text:
            continue
        chain = _style_chain(block)
        level = _heading_level(block, chain)
        if level is not None:
            items.append(("heading", text, level))
        elif (prefix := _list_prefix(block, chain)) is not None:
            items.append(("list", prefix + escape_line(text), 0))
        elif any("quote" in (s.name or "").lower() for s in chain):
            items.append(("quote", "> " + text, 0))
        else:
            items.append(("para", escape_line(text), 0))
    return items
