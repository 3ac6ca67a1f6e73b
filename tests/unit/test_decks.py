"""Pure deck helpers: how an outline edit is merged, picture request sizes, and the editor rows ⇄ slides."""

from __future__ import annotations

import pytest

from app.errors import Conflict
from app.services.generation.base import Capabilities
from app.services.slides.decks import merge_outline
from app.services.slides.engine.model import (
    ChartData,
    ChartSeries,
    Outline,
    Slide,
    SlideImage,
)
from app.services.slides.images import request_size
from app.services.slides.outline_rows import (
    move_row,
    new_row,
    outline_from_rows,
    row_of,
)

CHART = ChartData(categories=["2023", "2024"], series=[ChartSeries(name="kWh", values=[5, 8])])


def stored() -> Outline:
    return Outline(title="Solar", slides=[
        Slide(id="s1", layout="title", title="Solar", stage="ready"),
        Slide(id="s2", title="Why", bullets=["Roofs"], stage="ready", notes="n"),
        Slide(id="s3", title="Costs", bullets=["Add a cost"], stage="outline", placeholder=True),
        Slide(id="s4", layout="chart", title="Output", chart=CHART, stage="ready", locked=True),
    ])


def test_unchanged_slides_keep_their_stage_and_edited_ones_stay_written():
    edit = stored().model_copy(deep=True)
    edit.slides[1].bullets = ["Roofs", "Grants"]
    for slide in edit.slides:
        slide.stage, slide.error = "failed", "sent by the client"  # stages are the server's
    merged = merge_outline(stored(), edit)
    assert [s.stage for s in merged.slides] == ["ready", "ready", "outline", "ready"]
    assert merged.slides[1].bullets == ["Roofs", "Grants"] and not merged.slides[1].error


def test_new_slides_start_unwritten_and_rewritten_placeholders_become_the_users():
    edit = stored().model_copy(deep=True)
    edit.slides[2].bullets = ["€42,000 for panels"]
    edit.slides.insert(1, Slide(id="n1", title="Grants"))
    merged = merge_outline(stored(), edit)
    assert merged.slides[1].stage == "outline"
    assert merged.slides[3].placeholder is False and merged.slides[3].stage == "outline"


def test_a_locked_slide_keeps_its_content_unless_unlocked_and_cannot_be_deleted():
    edit = stored().model_copy(deep=True)
    edit.slides[3].title = "Changed"
    assert merge_outline(stored(), edit).slides[3].title == "Output"
    edit.slides[3].locked = False
    assert merge_outline(stored(), edit).slides[3].title == "Changed"
    with pytest.raises(Conflict, match="locked"):
        merge_outline(stored(), Outline(title="Solar", slides=stored().slides[:3]))


@pytest.mark.parametrize(("caps", "aspect", "expected"), [
    (Capabilities(min_side=256, max_side=2048, size_multiple=8), 0.889, (912, 1024)),
    (Capabilities(min_side=256, max_side=2048, size_multiple=64), 16 / 9, (1024, 576)),
    (Capabilities(min_side=256, max_side=768, size_multiple=8), 2.0, (768, 384)),
    (Capabilities(sizes=("1024x1024", "1536x1024", "1024x1536")), 0.889, (1024, 1024)),
    (Capabilities(sizes=("1024x1024", "1536x1024", "1024x1536")), 0.6, (1024, 1536)),
])
def test_picture_requests_fit_the_box_in_sizes_the_provider_makes(caps, aspect, expected):
    assert request_size(caps, aspect) == expected


def test_editor_rows_round_trip_and_keep_what_the_editor_does_not_show():
    outline = stored()
    outline.slides[1] = outline.slides[1].model_copy(update={
        "layout": "image_text", "image": SlideImage(asset_id="12", prompt="a roof", alt="Roof")})
    rows = [row_of(s, i, "") for i, s in enumerate(outline.slides, start=1)]
    assert rows[1]["has_picture"] == "yes" and rows[3]["data"].startswith("Column chart · 2 categories")
    rows[1]["bullets"] = " Roofs \n\n- south facing\nGrants"
    rows[1]["image_prompt"] = "a sunny roof"
    rows.append(new_row(5))
    rows[-1]["title"] = "Next steps"
    back = outline_from_rows(rows, outline, "Solar")
    assert back.slides[1].bullets == ["Roofs", "- south facing", "Grants"]
    assert back.slides[1].image == SlideImage(asset_id="12", prompt="a sunny roof", alt="Roof")
    assert back.slides[3].chart == CHART and back.slides[3].locked
    assert back.slides[4].title == "Next steps" and back.slides[4].id.startswith("n")
    rows[0]["title"] = "Solar for schools"  # the deck title follows the first slide's
    assert outline_from_rows(rows, outline, "Solar").title == "Solar for schools"


def test_moving_a_row_takes_it_out_and_puts_it_at_the_target_renumbered():
    rows = [row_of(s, i, "") for i, s in enumerate(stored().slides, start=1)]
    dragged = move_row(rows, "s3", 0)
    assert [r["id"] for r in dragged] == ["s3", "s1", "s2", "s4"]
    assert [r["number"] for r in dragged] == ["1", "2", "3", "4"]
    assert [r["id"] for r in move_row(rows, "s1", 3)] == ["s2", "s3", "s4", "s1"]
    assert move_row(rows, "s1", 0) is None and move_row(rows, "nope", 1) is None and move_row(rows, "s2", 4) is None
