"""Fitting a deck to the requested slide count: merging small slides, splitting big ones (local engine)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from app.services.slides.engine.model import ChartData, Layout, TableData

LIST_SPLIT = 7  # a list longer than this is spread over several slides
MERGE_LIMIT = 8  # two slides are merged (to meet the slide count) only if the result has at most this many bullets

# Re-picks the bullets of a run of prose sentences: (title, sentence rows) → a draft.
Prose = Callable[[str, list[int]], "Draft"]


@dataclass
class Draft:
    """A slide being planned, with what is needed to split or merge it."""

    layout: Layout
    title: str
    bullets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)  # prose sentences (index rows) the bullets were picked from
    chart: ChartData | None = None
    table: TableData | None = None
    quote: str = ""
    attribution: str = ""
    part: bool = False  # one of several slides made from one section: titles get "(1/2)"
    gist_title: bool = False  # the title was made from the text (no heading): parts get their own
    # a section whose sub-sections were folded into bullets: (its own slide or None, one slide per sub-section)
    collapsed: tuple[Draft | None, list[Draft]] | None = None
    merged_titles: list[str] = field(default_factory=list)  # the sections merged into this slide
    repick: bool = False  # merged prose whose bullets are still the two halves' bullets

    @property
    def titles(self) -> list[str]:
        return self.merged_titles or [self.title]


def split(draft: Draft, prose: Prose) -> list[Draft]:
    """Two slides from one: prose re-ranked per half, a list cut in the middle."""
    if draft.pool and len(draft.pool) >= 6:  # prose: pick the best sentences of each half again
        half, title = len(draft.pool) // 2, "" if draft.gist_title else draft.title
        parts = [prose(title, draft.pool[:half]), prose(title, draft.pool[half:])]
        if draft.gist_title:
            return parts  # each half is titled from its own text
    else:
        half = math.ceil(len(draft.bullets) / 2)
        parts = [replace(draft, bullets=draft.bullets[:half], notes=draft.notes, collapsed=None),
                 replace(draft, bullets=draft.bullets[half:], notes=[], collapsed=None)]
    return [replace(p, part=True) for p in parts]


def split_long(drafts: list[Draft], prose: Prose) -> list[Draft]:
    """Lists longer than LIST_SPLIT spread over several slides."""
    out: list[Draft] = []
    for draft in drafts:
        pending = [draft]
        while pending:
            current = pending.pop(0)
            if current.layout == "bullets" and len(current.bullets) > LIST_SPLIT:
                pending[:0] = split(current, prose)
            else:
                out.append(current)
    return out


def fit_count(drafts: list[Draft], room: int, prose: Prose) -> list[Draft]:
    """Merge or split slides to approach `room` slides; never drops content, so it may stop short."""
    while len(drafts) > room:
        divider = next((i for i, d in enumerate(drafts) if d.layout == "section"), None)
        if divider is not None:
            drafts.pop(divider)
            continue
        # Then quotes: the last bullet of the slide before them, or that slide's notes.
        quote = next((i for i, d in enumerate(drafts) if i and d.layout == "quote"), None)
        if quote is not None:
            q, host = drafts.pop(quote), drafts[quote - 1]
            said = f"“{q.quote}”" + (f" — {q.attribution}" if q.attribution else "")
            if host.layout == "bullets" and len(host.bullets) < MERGE_LIMIT:
                host.bullets.append(said)
            else:
                host.notes.append(said)
            host.notes += q.notes
            continue
        # Then neighbouring text slides share one slide, smallest first. Prose always can (its best
        # sentences are picked again); lists only while the result stays readable.
        pairs = [(len(a.bullets) + len(b.bullets), i) for i, (a, b) in enumerate(itertools.pairwise(drafts))
                 if a.layout == b.layout == "bullets" and ((a.pool and b.pool) or
                                                            len(a.bullets) + len(b.bullets) <= MERGE_LIMIT)]
        if not pairs:
            break
        i = min(pairs)[1]
        drafts[i:i + 2] = [_merge(drafts[i], drafts[i + 1])]
    drafts = [_repicked(d, prose) if d.repick else d for d in drafts]
    while len(drafts) < room:
        folded = next((i for i, d in enumerate(drafts) if d.collapsed), None)
        if folded is not None:
            own, subs = drafts[folded].collapsed
            drafts[folded:folded + 1] = [own or Draft("section", drafts[folded].title), *subs]
            continue
        # Then the biggest slide is halved: prose of 6+ sentences, or a list of 4+ items.
        sizes = [(len(d.pool) or len(d.bullets), -i) for i, d in enumerate(drafts) if d.layout == "bullets"
                 and (len(d.pool) >= 6 or (not d.pool and len(d.bullets) >= 4))]
        if not sizes:
            break
        i = -max(sizes)[1]
        drafts[i:i + 1] = split(drafts[i], prose)
    return drafts


def _merge(a: Draft, b: Draft) -> Draft:
    same = a.part and b.part and a.title == b.title
    titles = a.titles + b.titles
    # "A & B"; a run of merged sections is named by its first and last: "A … D".
    title = a.title if same else " & ".join(titles) if len(titles) == 2 else f"{titles[0]} … {titles[-1]}"
    # Merged prose keeps its sentences; its bullets are picked again once merging is done (fit_count).
    # Prose merged with a list keeps both as they are (the list's items are not sentences to rank).
    prose = bool(a.pool and b.pool)
    return Draft("bullets", title, bullets=a.bullets + b.bullets, notes=a.notes + b.notes,
                 pool=a.pool + b.pool if prose else [], part=same, gist_title=prose and a.gist_title and b.gist_title,
                 merged_titles=[] if same else titles, repick=prose)


def _repicked(draft: Draft, prose: Prose) -> Draft:
    picked = prose("" if draft.gist_title else draft.title, draft.pool)
    return replace(picked, part=draft.part, merged_titles=draft.merged_titles)


def cap_count(drafts: list[Draft], room: int) -> tuple[list[Draft], list[str]]:
    """At most `room` slides whatever the source: text slides are forced together (bullets beyond the
    slide limit move to the notes); what still does not fit is left out, and the last slide says so.
    Returns the slides and the titles of those left out (the deck says so too)."""
    while len(drafts) > room:
        pairs = [i for i, (a, b) in enumerate(itertools.pairwise(drafts))
                 if a.layout == b.layout == "bullets"]
        if not pairs:
            break
        i = pairs[-1]
        a, b = drafts[i], drafts[i + 1]
        bullets = a.bullets + b.bullets
        # Beyond a readable slide the points go to the notes: the count asked for is kept, nothing is lost.
        drafts[i:i + 2] = [Draft("bullets", f"{a.titles[0]} … {b.titles[-1]}", bullets=bullets[:MERGE_LIMIT],
                                 notes=a.notes + bullets[MERGE_LIMIT:] + b.notes,
                                 merged_titles=a.titles + b.titles)]
    room = max(0, room)
    left_out = [d.title for d in drafts[room:]]
    if room == 0:
        return [], left_out
    if left_out:
        drafts = drafts[:room]
        drafts[-1].notes.append("The source has more parts than fit in one deck; the rest was left out.")
    return drafts, left_out


def number_parts(drafts: list[Draft]) -> list[Draft]:
    """Consecutive parts of one section titled "Title (1/3)", "Title (2/3)"…"""
    out, i = [], 0
    while i < len(drafts):
        j = i + 1
        while drafts[i].part and j < len(drafts) and drafts[j].part and drafts[j].title == drafts[i].title:
            j += 1
        run = drafts[i:j]
        out += [replace(d, title=f"{d.title} ({n}/{len(run)})") for n, d in enumerate(run, 1)] if len(run) > 1 else run
        i = j
    return out


