"""The one type for ids in paths: every route's `{..._id}` is 1 … 2**63-1, else a JSON 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from app.ids import MAX_ID, DbId

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

__all__ = ["DbId", "IdPath"]
