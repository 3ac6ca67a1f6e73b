"""Markdown → a flat list of headed chunks of blocks, for the local slide engine (markdown-it-py, CommonMark
plus GFM tables). Inline formatting is dropped: slides get plain text; links keep their text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

# HTML is parsed so that comments ("<!-- TODO: ask finance -->") and tags can be dropped instead of
# landing on slides as text; the words of an HTML block are kept.
_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")
_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
_TAG = re.compile(r"<[^>]{0,500}>")
_BOX_DRAWING = re.compile(r"[\u2500-\u259f\u25a0-\u25ff\u2190-\u21ff]")
_CODE_LINE = re.compile(r"^\s*(def |class |import |from \S+ import|return\b|if .*:$|for .*:$|while .*:$|#include|"
                        r"function\b|const |let |var |public |private |SELECT\b|\$ )|[;{}]\s*$|^\s*[}\])]|"
                        r"^\s*[A-Za-z_][\w.]*(\[[^\]]*\])?\s*[-+*/]?=\s*\S|\w\([^()]*\)\s*:?\s*$")


def looks_like_code(raw: str) -> bool:
    """A paragraph that is code or a text diagram (pasted from a PDF or a Word file, so not fenced): box-drawing
    characters, mostly symbols, or several lines shaped like code. One line of prose never is."""
    lines = [line for line in raw.splitlines() if line.strip()]
    if _BOX_DRAWING.search(raw):
        return True
    if len(lines) < 2:
        return False
    visible = [ch for ch in raw if not ch.isspace()]
    letters = sum(ch.isalpha() for ch in visible)
    if visible and letters / len(visible) < 0.55:  # ascii art: +----+ | --> |
        return True
    return sum(bool(_CODE_LINE.search(line)) for line in lines) >= max(2, len(lines) // 2)


def _code_shaped(line: str) -> bool:
    visible = [ch for ch in line if not ch.isspace()]
    return bool(_CODE_LINE.search(line) or _BOX_DRAWING.search(line)) or \
        (len(visible) >= 3 and sum(ch.isalpha() for ch in visible) / len(visible) < 0.5)


def _join_code_runs(blocks: list[Block]) -> list[Block]:
    """Word and PDF sources put each code line in a paragraph of its own: two or more code-shaped paragraphs
    in a row are one code block."""
    out: list[Block] = []
    run: list[Block] = []
    for block in [*blocks, Block("list")]:  # the sentinel ends the last run
        if block.kind == "para" and _code_shaped(block.text):
            run.append(block)
            continue
        if len(run) >= 2:
            out.append(Block("code", text="\n".join(b.text for b in run)))
        else:
            out += run
        run = []
        out.append(block)
    return out[:-1]
_ATTRIBUTION = re.compile(r"^\s*(?:[—–~]|--?)\s*(\S.{0,198})$")


@dataclass
class Block:
    kind: Literal["para", "list", "quote", "table", "code"]
    text: str = ""  # para, quote, code
    items: list[tuple[int, str]] = field(default_factory=list)  # list: (depth, text)
    rows: list[list[str]] = field(default_factory=list)  # table: the first row is the header
    attribution: str = ""  # quote


@dataclass
class Chunk:
    level: int  # heading level 1–6; 0 for text before the first heading
    title: str
    blocks: list[Block] = field(default_factory=list)


def inline_text(token: Token) -> str:
    """The plain text of an inline token (emphasis, code spans and links reduced to their words)."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def parse_chunks(text: str) -> list[Chunk]:
    """The document as chunks, each a heading with the blocks up to the next heading."""
    tokens = _PARSER.parse(text)
    chunks = [Chunk(0, "")]
    list_depth = quote_depth = 0
    quote_lines: list[str] = []
    row: list[str] | None = None
    table: list[list[str]] = []
    new_item = False
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            chunks.append(Chunk(int(token.tag[1]), inline_text(tokens[i + 1])))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0 and quote_depth == 0:
                chunks[-1].blocks.append(Block("list"))
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif kind == "list_item_open":
            new_item = True
        elif kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
            if quote_depth == 0 and quote_lines:
                _add_quote(chunks[-1], quote_lines)
                quote_lines = []
        elif kind == "html_block":
            words = " ".join(_TAG.sub(" ", _COMMENT.sub(" ", token.content)).split())
            if words and not quote_depth and not list_depth:
                chunks[-1].blocks.append(Block("para", text=words))
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content = inline_text(token)
            if not content:
                continue
            if not quote_depth and not list_depth and looks_like_code(token.content):
                chunks[-1].blocks.append(Block("code", text=token.content.rstrip()))
                continue
            if quote_depth:
                quote_lines.append(content)
            elif list_depth:
                items = chunks[-1].blocks[-1].items
                if new_item or not items:
                    items.append((list_depth - 1, content))
                else:  # a second paragraph inside the same item
                    items[-1] = (items[-1][0], items[-1][1] + " " + content)
                new_item = False
            elif (match := _ATTRIBUTION.match(content)) and chunks[-1].blocks and \
                    chunks[-1].blocks[-1].kind == "quote" and not chunks[-1].blocks[-1].attribution:
                chunks[-1].blocks[-1].attribution = match.group(1)  # "— Name" right after a quote
            else:
                chunks[-1].blocks.append(Block("para", text=content))
        elif kind == "tr_open":
            row = []
        elif kind == "inline" and row is not None and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(inline_text(token))
        elif kind == "tr_close" and row is not None:
            table.append(row)
            row = None
        elif kind == "table_close":
            if table and not quote_depth and not list_depth:
                chunks[-1].blocks.append(Block("table", rows=table))
            table = []
        elif kind in ("fence", "code_block") and token.content.strip() and not list_depth:
            chunks[-1].blocks.append(Block("code", text=token.content.rstrip()))
        elif kind == "hr" and (chunks[-1].blocks or chunks[-1].title):
            # A thematic break (Marp-style slide separator): what follows is a new, untitled part.
            chunks.append(Chunk(chunks[-1].level, ""))
    for chunk in chunks:
        chunk.blocks = _join_code_runs(chunk.blocks)
    return [c for c in chunks if c.title or c.blocks]


def _add_quote(chunk: Chunk, lines: list[str]) -> None:
    attribution = ""
    if len(lines) > 1 and (match := _ATTRIBUTION.match(lines[-1])):
        attribution, lines = match.group(1), lines[:-1]
    elif match := re.match(r"^(.*\S)\s+(?:—|--)\s*([^—]{2,120})$", lines[-1]):
        lines = [*lines[:-1], match.group(1)]  # "Text. — Name" on the quote's last line
        attribution = match.group(2)
    chunk.blocks.append(Block("quote", text=" ".join(lines), attribution=attribution.strip()))
