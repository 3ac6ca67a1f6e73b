"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV injection")."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: T) -> T | str:
    """The text with a leading single quote when it would start a formula; other values as they are.

    The quote is what OWASP advises: spreadsheets show the text, and it reads back unchanged
    apart from that quote. Our own numbers (ids) are not text and are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
