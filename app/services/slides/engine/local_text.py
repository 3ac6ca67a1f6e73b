"""The local slide engine (offline, the default): an outline and slide text from the user's own material.

Markdown structure becomes slides (one H1 → the title slide, the next heading level → slides, deeper
headings → bullets or slides of their own), lists become bullets, block quotes quote slides, tables
charts or tables, and prose becomes extractive bullets: its most central sentences, verbatim (see
`text_rank`). The sentences not shown become the speaker notes. Nothing is invented: without a source
the deck is a labelled skeleton of placeholders that say what to write (`text_skeleton`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache, partial

from app.services.slides.engine.model import (
    MAX_BULLETS,
    MAX_NOTES,
    MAX_SLIDES,
    MAX_TEXT,
    DeckSpec,
    Outline,
    Slide,
)
from app.services.slides.engine.text_fit import (
    Draft,
    cap_count,
    fit_count,
    number_parts,
    split_long,
)
from app.services.slides.engine.text_markdown import Block, Chunk, parse_chunks
from app.services.slides.engine.text_rank import (
    DECIMAL_COMMA,
    MAX_RANKED,
    SentenceIndex,
    base_language,
    guess_language,
    split_sentences,
)
from app.services.slides.engine.text_skeleton import fill_bullets, labels, skeleton_slides
from app.services.slides.engine.text_tables import table_charts, table_data

PROSE_BULLETS = 5  # at most this many extracted sentences on one slide
COLLAPSE_LIMIT = 6  # up to this many short sub-sections become bullets of their section's slide
TITLE_NOTES = 3  # sentences of summary in the title slide's notes


class _Source:
    """The parsed source: chunks, every sentence in one TF-IDF index, and the language it is written in."""

    def __init__(self, text: str, language: str):
        self.chunks = parse_chunks(text)
        prose = " ".join(b.text for c in self.chunks for b in c.blocks if b.kind == "para")
        self.language = guess_language(prose or text, default=language)
        sentences: list[str] = []
        self.rows: dict[int, list[int]] = {}  # id(block) → its sentence rows
        self.kinds: dict[int, str] = {}  # id(block) → its kind
        self.lead_rows: list[int] = []  # the first sentence of each paragraph
        self.chunk_rows: list[list[int]] = [[] for _ in self.chunks]  # per chunk: its sentence rows
        self.headings = [_key(c.title) for c in self.chunks]
        for number, chunk in enumerate(self.chunks):
            for block in chunk.blocks:
                if block.kind in ("para", "quote"):
                    found = split_sentences(block.text, language=self.language)
                elif block.kind == "list":
                    found = [text for _, text in block.items]
                else:
                    continue
                self.rows[id(block)] = list(range(len(sentences), len(sentences) + len(found)))
                self.kinds[id(block)] = block.kind
                self.chunk_rows[number] += self.rows[id(block)]
                if block.kind == "para" and found:
                    self.lead_rows.append(len(sentences))
                sentences += found
        self.index = SentenceIndex(sentences, language=self.language)
        self.keys = [_key(s) for s in sentences]  # each sentence's words, to tell what a slide already says
        self.words = labels(self.language)  # the engine's own words (e.g. "Overview") in the source's language

    def text(self, rows: list[int]) -> list[str]:
        return [self.index.sentences[r] for r in rows]

    def prose(self, blocks: list[Block]) -> list[int]:
        return [r for b in blocks if b.kind == "para" for r in self.rows[id(b)]]


@lru_cache(maxsize=4)
def _source(text: str, language: str) -> _Source:
    # write_slide runs once per slide on the same source: parse and index it once.
    return _Source(text, language)


@dataclass(frozen=True)
class Planned:
    """An outline, and what the user should know about how their document became it (said on the deck)."""

    outline: Outline
    notices: list[str]


def outline_from(spec: DeckSpec) -> Outline:
    """The outline of a deck, with every slide already written (bullets, charts, notes)."""
    return plan_outline(spec).outline


def plan_outline(spec: DeckSpec) -> Planned:
    """`outline_from`, with notices for what the document held that the deck does not show as asked:
    code left out, fewer slides than asked, parts past the slide limit."""
    language = base_language(spec.language)
    if not spec.source_text.strip():
        slides = skeleton_slides(topic=spec.topic, audience=spec.audience, count=spec.slides, language=language,
                                 notes=spec.notes)
        return Planned(Outline(title=slides[0].title, slides=slides), [])
    source = _source(spec.source_text, language)
    title, subtitle, intro, sections = _structure(source, spec)
    drafts: list[Draft] = []
    if intro and (len(source.prose(intro)) >= 2 or any(b.kind != "para" for b in intro)):
        drafts += _section_drafts(source.words["overview"], intro, [], source)
        intro = []
    for heading, blocks, children in sections:
        drafts += _section_drafts(heading, blocks, children, source)
    prose = partial(_prose, source=source)
    # The count asked for is a promise: fit_count only approaches it without losing text; cap_count keeps it.
    room = min(spec.slides, MAX_SLIDES) - 1
    drafts, left_out = cap_count(fit_count(split_long(drafts, prose), room, prose), room)
    # The title slide's notes summarise with sentences no other slide shows or says (one note, one slide).
    used = {title, subtitle} | {text for d in drafts for text in d.bullets + d.notes}
    summary = source.text((intro and source.prose(intro)) or _central(source, TITLE_NOTES, skip=used))
    slides = [Slide(id="s1", layout="title", title=_cut(title), subtitle=_cut(subtitle),
                    notes=_notes(summary) if spec.notes else "")]
    for number, draft in enumerate(number_parts(drafts), start=2):
        slides.append(_to_slide(draft, f"s{number}", spec.notes))
    notices = _notices(source, spec, made=len(slides), sections=len(sections), left_out=left_out)
    return Planned(Outline(title=slides[0].title, slides=slides), notices)


def _notices(source: _Source, spec: DeckSpec, *, made: int, sections: int, left_out: list[str]) -> list[str]:
    notices = []
    code = [c.title or source.words["overview"] for c in source.chunks for b in c.blocks if b.kind == "code"]
    if code:
        places = ", ".join(f"“{t}”" for t in dict.fromkeys(code))
        noun = "1 code block" if len(code) == 1 else f"{len(code)} code blocks"
        notices.append(f"Left out {noun} (in {places}): slides have no layout for code or text diagrams; "
                       "add it as a picture if it belongs on a slide.")
    asked = min(spec.slides, MAX_SLIDES)
    if left_out:
        names = ", ".join(f"“{t}”" for t in left_out[:3] if t) + (" …" if len(left_out) > 3 else "")
        noun = "1 part" if len(left_out) == 1 else f"{len(left_out)} parts"
        notices.append(f"The document has more parts than fit in {asked} slide{'s' if asked != 1 else ''}: "
                       f"{noun} left out ({names or 'untitled'}).")
    elif made < asked:
        why = (f"the document has {sections} section{'s' if sections != 1 else ''}"
               if any(c.level and c.title for c in source.chunks) else "the document has no headings")
        notices.append(f"Made {made} slides of the {asked} asked: {why}, and the offline engine splits one only "
                       "when it has text enough for two slides. It adds no text of its own.")
    return notices


def write_slide(spec: DeckSpec, outline: Outline, slide_id: str) -> Slide:
    """One slide of an (possibly user-edited) outline, completed: a slide with only a title gets bullets
    from the source sentences most relevant to it, and empty notes are filled the same way. Locked slides
    come back unchanged."""
    slide = next((s for s in outline.slides if s.id == slide_id), None)
    if slide is None:
        raise ValueError(f"there is no slide {slide_id!r} in this outline")
    if slide.locked:
        return slide
    data = slide.model_dump()
    text_layout = slide.layout in ("bullets", "two_column", "image_text")
    language = base_language(spec.language)
    if not spec.source_text.strip():
        if text_layout and not slide.bullets and not slide.bullets_right:
            source_lang = language if language in ("en", "de", "fr", "es") else "en"
            data.update(bullets=fill_bullets(slide.title, source_lang), placeholder=True)
            data["notes"] = data["notes"] or labels(source_lang)["fill_note"]
    else:
        source = _source(spec.source_text, language)
        index = source.index
        if slide.layout == "title":
            summary = _central(source, TITLE_NOTES, {slide.title, slide.subtitle})
            data["notes"] = data["notes"] or _notes(source.text(summary))
        elif text_layout and not slide.bullets and not slide.bullets_right and slide.title:
            bullets = sorted(index.relevant(slide.title, k=PROSE_BULLETS + 3)[:3])
            if bullets:
                data.update(bullets=source.text(bullets), placeholder=False)
                written = slide.model_copy(update={"bullets": source.text(bullets)})
                data["notes"] = data["notes"] or _notes(_notes_for(source, outline, written))
            else:  # the source says nothing about this title: ask the user, as for a bare topic
                data.update(bullets=fill_bullets(slide.title, source.language), placeholder=True)
        elif not data["notes"]:
            data["notes"] = _notes(_notes_for(source, outline, slide))
    if not spec.notes:
        data["notes"] = ""
    data.update(stage="ready", error="")
    return Slide.model_validate(data)


def _notes_for(source: _Source, outline: Outline, slide: Slide) -> list[str]:
    """Speaker notes for a slide that has none: the sentences of its own section (found by the sentences it
    shows or by its title) that no slide shows or says. A slide the source cannot place (the user's own)
    gets the sentences most related to it, under the same rule; nothing left to say gives no notes."""
    keys = source.keys
    on_slide = {_key(t) for t in [slide.subtitle, slide.quote, *slide.bullets, *slide.bullets_right] if t}
    others = [s for s in outline.slides if s.id != slide.id]
    shown = {_key(t) for s in others for t in [s.title, s.subtitle, s.quote, *s.bullets, *s.bullets_right] if t}
    noted = " " + " ".join(_key(s.notes) for s in others) + " "

    def unsaid(row: int) -> bool:
        key = keys[row]
        return bool(key) and key not in on_slide and key not in shown and f" {key} " not in noted

    titles = _title_keys(slide.title)
    own = [n for n, rows in enumerate(source.chunk_rows)
           if (source.headings[n] and source.headings[n] in titles) or any(keys[r] in on_slide for r in rows)]
    if own:
        return source.text([r for n in own for r in source.chunk_rows[n] if unsaid(r)])
    shows = " ".join([slide.title, slide.subtitle, slide.quote, *slide.bullets, *slide.bullets_right])
    related = (r for r in source.index.relevant(shows, k=len(keys)) if unsaid(r))
    return source.text(sorted(itertools.islice(related, 4)))


def _title_keys(title: str) -> set[str]:
    """A slide title and the section headings it may be made of: "A & B", "A … D", "A — Growth", "A (2/3)"."""
    title = re.sub(r"\s*\(\d+/\d+\)$", "", title)
    return {_key(part) for part in [title, *re.split(r"\s+[&…—]\s+", title)] if part.strip()}


# --- structure -----------------------------------------------------------------------------------

Section = tuple[str, list[Block], list[Chunk]]


def _structure(source: _Source, spec: DeckSpec) -> tuple[str, str, list[Block], list[Section]]:
    """(deck title, subtitle, intro blocks, sections): the heading level that makes slides is the one
    below a single top heading (the title), else the top level itself."""
    chunks = list(source.chunks)
    intro = list(chunks[0].blocks) if chunks and chunks[0].level == 0 else []
    body = [c for c in chunks if c.level]
    title = ""
    top = min((c.level for c in body if c.title), default=0)
    # The only heading of its level, first in the document: the deck's title.
    if body and body[0].title and body[0].level == top and sum(c.level == top and bool(c.title) for c in body) == 1 \
            and (top == 1 or not intro):
        title, intro, body = body[0].title, intro + body[0].blocks, body[1:]
    if not title and intro and intro[0].kind == "para" and len(intro[0].text) <= 80 and \
            not re.search(r"[.!?:;]$", intro[0].text):
        title, intro = intro[0].text, intro[1:]  # a plain-text file's first line
    subtitle = ""
    if intro and intro[0].kind == "para" and len(intro[0].text) <= 140 and len(source.rows[id(intro[0])]) == 1:
        subtitle, intro = intro[0].text, intro[1:]
    title = title or spec.topic.strip()
    if spec.topic.strip() and not subtitle and spec.topic.strip() != title:
        subtitle = spec.topic.strip()
    if not body:  # no headings: cut the text into parts of similar length
        groups = _group_blocks(intro, spec.slides - 1, source)
        return title or _gist(source.text(_central(source, 1))), subtitle, [], [("", g, []) for g in groups]
    level = min((c.level for c in body if c.title), default=0)
    sections: list[Section] = []
    for chunk in body:
        # An untitled part (after a thematic break) is always a section of its own.
        if chunk.level <= level or not chunk.title or not sections:
            sections.append((chunk.title, list(chunk.blocks), []))
        else:
            sections[-1][2].append(chunk)
    return title or _gist(source.text(_central(source, 1))) or sections[0][0], subtitle, intro, sections


def _central(source: _Source, k: int, skip: set[str] | frozenset[str] = frozenset()) -> list[int]:
    """The `k` most central prose sentences of the whole source, in document order."""
    rows = [r for block, rows in source.rows.items() for r in rows if source.kinds[block] == "para"
            and source.index.sentences[r] not in skip]
    if len(rows) > MAX_RANKED:  # a long source: its paragraphs' first sentences stand for it
        rows = [r for r in source.lead_rows if source.index.sentences[r] not in skip]
    return sorted(source.index.rank(rows)[:k]) if rows else []


def _group_blocks(blocks: list[Block], parts: int, source: _Source) -> list[list[Block]]:
    sizes = [max(1, len(source.rows.get(id(b), [])) if b.kind == "para" else 2) for b in blocks]
    total = sum(sizes)
    parts = max(1, min(parts, math.ceil(total / 3)))  # at least ~3 sentences per slide
    groups: list[list[Block]] = [[]]
    filled = 0
    for block, size in zip(blocks, sizes, strict=True):
        if groups[-1] and filled >= total * len(groups) / parts and len(groups) < parts:
            groups.append([])
        groups[-1].append(block)
        filled += size
    return [g for g in groups if g]


def _section_drafts(title: str, blocks: list[Block], children: list[Chunk], source: _Source) -> list[Draft]:
    pool = source.prose(blocks)
    lists = [b for b in blocks if b.kind == "list"]
    main: Draft | None = None
    if lists:
        main = Draft("bullets", title, bullets=[t for b in lists for t in _list_bullets(b.items)],
                      notes=source.text(pool))
    elif pool:
        main = _prose(title, pool, source=source)
    extras = [d for b in blocks for d in _special(title, b, source)]
    # Code and diagrams are left out: as bullets they read as noise (and box-drawing characters show as
    # tofu in the slide fonts); a section that is only code has nothing for a slide.
    if main is None and not extras and not children and any(b.kind == "code" for b in blocks):
        return []
    if main is None and len(extras) == 1:
        extras[0].notes = source.text(pool) + extras[0].notes  # the table or quote is the section's slide
    elif extras and extras[0].layout == "quote" and main:
        extras[0].title = ""  # a quote after the section's bullets: the slide is the quote alone
    drafts = ([main] if main else []) + extras
    if children:
        sub = [_section_drafts(c.title, c.blocks, [], source) for c in children]
        foldable = len(children) + (len(main.bullets) if main else 0) <= COLLAPSE_LIMIT and not extras and \
            all(len(s) == 1 and s[0].layout == "bullets" for s in sub)
        if foldable:
            folded = [d[0] for d in sub]
            own = replace(main, bullets=list(main.bullets), notes=list(main.notes)) if main else None
            merged = main or Draft("bullets", title)
            merged.bullets += [_fold(c.title, d) for c, d in zip(children, folded, strict=True)]
            merged.notes += [n for d in folded for n in d.bullets[1:] + d.notes]
            merged.collapsed = (own, folded)
            return [merged]
        drafts = [Draft("section", title)] + drafts + [d for s in sub for d in s]
    return drafts or [Draft("section", title or "…")]


def _prose(title: str, pool: list[int], *, source: _Source) -> Draft:
    ranked = source.index.rank(pool)
    k = min(PROSE_BULLETS, math.ceil(len(pool) * 0.6))  # the rest of the sentences go to the notes
    worthy = [r for r in ranked if 3 <= len(source.index.sentences[r].split()) <= 45] or ranked
    chosen = sorted(worthy[:k])
    return Draft("bullets", title or _gist(source.text(ranked[:1])), bullets=source.text(chosen),
                  notes=source.text([r for r in pool if r not in chosen]), pool=pool, gist_title=not title)


def _special(title: str, block: Block, source: _Source) -> list[Draft]:
    """The slides a table (one chart per unit, or a table) or a quote makes; [] for other blocks."""
    if block.kind == "table" and block.rows and any(any(c.strip() for c in r) for r in block.rows):
        charts = table_charts(block.rows, title=title, decimal_comma=source.language in DECIMAL_COMMA)
        if len(charts) > 1:  # mixed units: a chart each, titled by what it shows
            return [Draft("chart", _cut(chart.title), chart=chart) for chart in charts]
        if charts:
            return [Draft("chart", title or charts[0].series[0].name, chart=charts[0])]
        table, note = table_data(block.rows)
        return [Draft("table", title or " · ".join(table.header)[:80], table=table, notes=[note] if note else [])]
    if block.kind == "quote" and block.text:
        sentences = source.text(source.rows[id(block)])
        quote = block.text if len(block.text) <= MAX_TEXT else _within(sentences, MAX_TEXT)
        notes = [block.text] if quote != block.text else []
        return [Draft("quote", title, quote=quote, attribution=block.attribution[:200], notes=notes)]
    return []


def _list_bullets(items: list[tuple[int, str]]) -> list[str]:
    """Top-level items as bullets; short sub-items join their parent ("Apply: deadline in March")."""
    bullets: list[tuple[str, list[str]]] = []
    for depth, text in items:
        if depth == 0 or not bullets:
            bullets.append((text, []))
        else:
            bullets[-1][1].append(text)
    out: list[str] = []
    for parent, children in bullets:
        joined = parent + ("" if parent.endswith(":") else ":") + " " + "; ".join(children)
        if children and len(joined) <= 200:
            out.append(joined)
        else:
            out += [parent, *children]
    return out


def _fold(title: str, draft: Draft) -> str:
    gist = draft.bullets[0] if draft.bullets else ""
    return f"{title}: {gist}" if title and gist else title or gist


# --- small helpers -------------------------------------------------------------------------------

def _to_slide(draft: Draft, slide_id: str, with_notes: bool) -> Slide:
    return Slide(id=slide_id, layout=draft.layout, title=_cut(draft.title), bullets=draft.bullets[:MAX_BULLETS],
                 quote=draft.quote, attribution=draft.attribution, chart=draft.chart, table=draft.table,
                 notes=_notes(draft.notes) if with_notes else "")


def _notes(sentences: list[str]) -> str:
    return _within(sentences, MAX_NOTES)


def _within(sentences: list[str], limit: int) -> str:
    """Whole sentences joined, up to `limit` characters."""
    out = ""
    for sentence in sentences:
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > limit:
            break
        out = candidate
    return out or (sentences[0][:limit - 1] + "…" if sentences else "")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1].rsplit(" ", 1)[0] + "…"


def _gist(sentences: list[str]) -> str:
    """A short title from a sentence: the sentence itself when short, else its first clause or words."""
    sentence = re.sub(r"[.!?。]+$", "", sentences[0].strip()) if sentences else ""
    words = sentence.split()
    if len(words) <= 9:
        return sentence
    clause = re.split(r"[,;:—–(]", sentence, maxsplit=1)[0].split()
    return " ".join(clause) if 3 <= len(clause) <= 9 else " ".join(words[:8]) + "…"


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
