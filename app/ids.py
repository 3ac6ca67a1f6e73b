"""Database ids: 64-bit signed integers, positive. Anything else is refused before it reaches SQL.

SQLite and PostgreSQL both store ids as signed 64-bit integers; a larger number makes the driver
raise (OverflowError, NumericValueOutOfRange) instead of finding nothing, hence the bound here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

# For ids in request bodies and forms (pydantic models): 1 … 2**63-1.
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def parse_id(raw: object) -> int:
    """An id from untrusted text (a page's query string, an event argument); 0 when it is not one."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return 0
    value = int(text)
    return value if 1 <= value <= MAX_ID else 0
