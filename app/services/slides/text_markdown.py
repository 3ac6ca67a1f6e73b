"""Markdown → a flat list of headed chunks of blocks, for the local slide engine (markdown-it-py, CommonMark
plus GFM tables). Inline formatting is dropped: slides get plain text; links keep their text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")
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
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content = inline_text(token)
            if not content:
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
    return [c for c in chunks if c.title or c.blocks]


def _add_quote(chunk: Chunk, lines: list[str]) -> None:
    attribution = ""
    if len(lines) > 1 and (match := _ATTRIBUTION.match(lines[-1])):
        attribution, lines = match.group(1), lines[:-1]
    elif match := re.match(r"^(.*\S)\s+(?:—|--)\s*([^—]{2,120})$", lines[-1]):
        lines = [*lines[:-1], match.group(1)]  # "Text. — Name" on the quote's last line
        attribution = match.group(2)
    chunk.blocks.append(Block("quote", text=" ".join(lines), attribution=attribution.strip()))
