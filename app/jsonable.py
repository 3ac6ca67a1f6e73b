"""Values for JSON columns: what JSON cannot hold is turned into what it can, before SQLAlchemy serialises it."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import String, cast


def jsonable(value: Any) -> Any:
    """Tuples and sets become lists, datetimes ISO text, bytes base64, dict keys text, anything else `str()`
    (EXIF rationals, numpy numbers): a JSON column never refuses a row because one field was odd."""
    return to_jsonable_python(value, fallback=str, bytes_mode="base64")


def json_text(column: Any) -> Any:
    """A JSON column as its JSON text, for LIKE (PostgreSQL has no LIKE on json; SQLite stores the text as is).
    Written by SQLAlchemy's json.dumps: `"key": value`, items `, `-separated, non-ASCII escaped."""
    return cast(column, String)
