"""The pure decisions of workflow runs: what a stored result is to its item, and a run's final status."""

import pytest

from app.services.workflows.runs import final_status, output_role


@pytest.mark.parametrize(("asset_id", "is_new", "meta", "role"), [
    (9, True, {}, "output"),  # new bytes: a new asset made by this item
    (5, False, {"lineage": {"run_id": 1}}, "unchanged"),  # the source itself, even when it was an output once
    (5, False, {}, "unchanged"),
    (7, False, {"lineage": {"run_id": 1}}, "output"),  # another run made the same bytes
    (7, False, {"exif": {}}, "existing"),  # an upload of the user's: never claimed
])
def test_output_role(asset_id, is_new, meta, role):
    assert output_role(asset_id=asset_id, is_new=is_new, source_id=5, meta=meta) == role


@pytest.mark.parametrize(("tally", "status"), [
    ({"done": 3}, "succeeded"),
    ({"done": 30, "failed": 70}, "partial"),
    ({"failed": 2}, "failed"),
    ({"canceled": 2}, "canceled"),
    ({"done": 1, "canceled": 2}, "canceled"),
    ({"done": 1, "failed": 1, "canceled": 1}, "partial"),
    ({}, "succeeded"),
])
def test_final_status(tally, status):
    assert final_status(tally) == status
