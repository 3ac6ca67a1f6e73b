"""The Slides page's outline editor rows ⇄ the slide model (pure helpers, no Reflex).

The editor holds strings only (Reflex state): chart and table data as text (app.services.slides.outline_data). Fields it
does not edit (a library picture, a chart's title and number format) are taken from the stored slide
when the outline is saved.
"""

from __future__ import annotations

import secrets
from typing import Any

from app.services.slides.engine.model import MAX_BULLETS, Outline, Slide
from app.services.slides.outline_data import (
    MAX_DATA_CHARS,
    DataProblem,
    chart_text,
    parse_chart,
    parse_table,
    table_text,
)

LAYOUTS = [("bullets", "Bullets"), ("title", "Title"), ("section", "Section"), ("two_column", "Two columns"),
           ("image_text", "Picture + text"), ("chart", "Chart"), ("table", "Table"), ("quote", "Quote")]
LAYOUT_LABELS = dict(LAYOUTS)
STAGE_LABELS = {"outline": "Not written", "writing": "Writing", "image": "Picture", "chart": "Chart",
                "ready": "Ready", "failed": "Failed"}
# Editor fields a user may change through `edit_slide`, with their length limits.
EDITABLE = {"title": 600, "subtitle": 600, "bullets": 8000, "right": 8000, "quote": 600, "attribution": 200,
            "notes": 4000, "image_prompt": 1000, "data_text": MAX_DATA_CHARS, "chart_type": 20}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:MAX_BULLETS]


def chart_summary(slide: Slide) -> str:
    if slide.chart is not None:
        chart = slide.chart
        return (f"{chart.type.capitalize()} chart · {len(chart.categories)} categories · "
                f"{len(chart.series)} series ({', '.join(s.name for s in chart.series[:3])})")
    if slide.table is not None:
        return f"Table · {len(slide.table.header)} columns × {len(slide.table.rows)} rows"
    return ""


def _data_text(slide: Slide) -> str:
    """The slide's chart as text, or its table (first when the slide is laid out as one)."""
    if slide.table is not None and (slide.layout == "table" or slide.chart is None):
        return table_text(slide.table)
    return chart_text(slide.chart) if slide.chart is not None else ""


def row_of(slide: Slide, number: int, preview: str) -> dict[str, str]:
    """One slide as the editor and the preview grid show it."""
    return {"id": slide.id, "number": str(number), "layout": slide.layout, "title": slide.title,
            "subtitle": slide.subtitle, "bullets": "\n".join(slide.bullets), "right": "\n".join(slide.bullets_right),
            "quote": slide.quote, "attribution": slide.attribution, "notes": slide.notes,
            "image_prompt": slide.image.prompt if slide.image else "",
            "has_picture": "yes" if slide.image and slide.image.asset_id else "",
            "asset_id": slide.image.asset_id or "" if slide.image else "",
            "locked": "yes" if slide.locked else "", "stage": slide.stage,
            "stage_label": STAGE_LABELS.get(slide.stage, slide.stage), "error": slide.error,
            "placeholder": "yes" if slide.placeholder else "", "data": chart_summary(slide),
            "has_data": "yes" if slide.chart is not None or slide.table is not None else "",
            "data_text": _data_text(slide), "chart_type": slide.chart.type if slide.chart else "column",
            "preview": preview, "layout_label": LAYOUT_LABELS.get(slide.layout, slide.layout)}


def new_row(number: int) -> dict[str, str]:
    """A blank bullets slide the user adds; the engines fill its bullets when it has only a title."""
    blank = Slide(id=f"n{secrets.token_hex(4)}", layout="bullets", title="New slide")
    return row_of(blank, number, "")


def renumber(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**row, "number": str(i)} for i, row in enumerate(rows, start=1)]


def move_row(rows: list[dict[str, str]], slide_id: str, target: int) -> list[dict[str, str]] | None:
    """The rows with `slide_id` taken out and put at index `target` (the others close up), renumbered;
    None when the slide is unknown or the target is off the list. Move up/down and drag both use this."""
    index = next((i for i, r in enumerate(rows) if r["id"] == slide_id), None)
    if index is None or not 0 <= target < len(rows) or target == index:
        return None
    moved = list(rows)
    moved.insert(target, moved.pop(index))
    return renumber(moved)


def outline_from_rows(rows: list[dict[str, str]], stored: Outline | None, title: str) -> Outline:
    """The outline the editor shows, over the stored one (for chart/table data and library pictures).

    Raises ValueError (pydantic's ValidationError) with the model's message when a row breaks a limit.
    """
    known = {s.id: s for s in stored.slides} if stored else {}
    slides = []
    for row in rows:
        base: dict[str, Any] = known[row["id"]].model_dump() if row["id"] in known else {"id": row["id"]}
        image = base.get("image") or None
        if row["layout"] == "image_text":
            # The picture is the one picked from the library (or made earlier), else the prompt's.
            prompt, asset_id = row["image_prompt"].strip(), row.get("asset_id") or None
            image = {**(image or {"alt": ""}), "prompt": prompt, "asset_id": asset_id} if prompt or asset_id else None
        _apply_data(base, row)
        base.update(layout=row["layout"], title=row["title"], subtitle=row["subtitle"], bullets=_lines(row["bullets"]),
                    bullets_right=_lines(row["right"]), quote=row["quote"], attribution=row["attribution"],
                    notes=row["notes"], image=image, locked=row["locked"] == "yes")
        slides.append(Slide.model_validate(base))
    first = slides[0].title if slides else ""
    # The deck title follows the first slide's title unless it was set apart from it.
    stored_first = stored.slides[0].title if stored else ""
    follows = stored is None or not stored.title or stored.title == stored_first
    return Outline(title=(first if follows else stored.title) or title, slides=slides)


def _apply_data(base: dict[str, Any], row: dict[str, str]) -> None:
    """The chart or table the row's data text describes, over the stored one (title, number format kept)."""
    layout, text = row["layout"], row.get("data_text", "")
    if layout not in ("chart", "table"):
        return
    where = f"slide {row['number']}"
    if not text.strip():
        raise DataProblem(f"{where} is a {layout}: give it data, a header line and then one line per "
                          f"{'category' if layout == 'chart' else 'row'}")
    try:
        if layout == "table":
            base["table"] = parse_table(text).model_dump()
            return
        stored = base.get("chart") or {}
        base["chart"] = parse_chart(text, kind=row.get("chart_type") or stored.get("type") or "column",
                                    title=stored.get("title", ""),
                                    number_format=stored.get("number_format", "General")).model_dump()
    except DataProblem as exc:
        raise DataProblem(f"{where}: {exc}") from None


def problem(exc: Exception) -> str:
    """A pydantic error as one line for the page."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors()[:3])
    return str(exc)
