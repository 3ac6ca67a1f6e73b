"""How numbers read on the pages: money, storage sizes, moments. Shared by several pages' states."""

from __future__ import annotations

from datetime import datetime


def money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


def storage_text(size: int) -> str:
    """Bytes as people read them: "0 bytes", "840 KB", "1.2 GB"."""
    if size < 1024:
        return f"{size} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1024
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "KB" else f"{size:,.1f} {unit}"
    return ""


def moment(value: datetime | None) -> str:
    """A time to the second, or "never"."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"
