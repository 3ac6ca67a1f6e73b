"""Tables from a source document → native chart data (a label column plus numeric columns) or a table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.services.slides.engine.model import (
    MAX_CATEGORIES,
    MAX_SERIES,
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    ChartData,
    ChartSeries,
    TableData,
)

_CURRENCY = re.compile(r"^(?:([$€£¥₹])|(USD|EUR|GBP|CHF|JPY)\s*)|(?:\s*([$€£¥₹])|\s+(USD|EUR|GBP|CHF|JPY))$", re.I)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # spaces, no-break spaces and Swiss apostrophes group digits
_TIME_LABEL = re.compile(
    r"^(?:(?:19|20)\d\d(?:[-/]\d{1,2})?|q[1-4](?:\s*(?:19|20)?\d\d)?|(?:19|20)\d\d\s*q[1-4]|h[12]\s*\d{0,4}|"
    r"(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zé]*\.?(?:\s*\d{2,4})?|fy\s*\d{2,4})$", re.I)


@dataclass(frozen=True)
class Number:
    value: float
    unit: str  # "", "%", or a currency symbol / code
    decimals: int


def parse_number(text: str, *, decimal_comma: bool = False) -> Number | None:
    """A table cell as a number: '1,234.5', '1.234,5' (decimal comma), '12 %', '$3,400', '(120)', '−5'.

    None for anything else (words, dates, ranges, empty cells).
    """
    s = text.strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):  # accounting negatives
        s, negative = s[1:-1].strip(), True
    unit = ""
    if s.endswith("%"):
        s, unit = s[:-1].strip(), "%"
    if match := _CURRENCY.search(s):
        unit = next(g for g in match.groups() if g)
        s = (s[:match.start()] + s[match.end():]).strip()
    if s and s[0] in "-−–+":
        negative, s = negative or s[0] != "+", s[1:].strip()
    if match := _CURRENCY.search(s):  # "-$5"
        unit = next(g for g in match.groups() if g)
        s = (s[:match.start()] + s[match.end():]).strip()
    s = _SPACES.sub("", s)
    if not re.fullmatch(r"\d[\d.,]*", s) or s.endswith((".", ",")):
        return None
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
    elif "," in s:
        grouped = re.fullmatch(r"\d{1,3}(?:,\d{3})+", s)
        decimal = "," if decimal_comma or not grouped else ""
    elif "." in s:
        grouped = re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s)
        decimal = "" if decimal_comma and grouped else "."
    else:
        decimal = ""
    thousands = {"": ",.", ",": ".", ".": ","}[decimal]
    for sep in thousands:
        s = s.replace(sep, "")
    if decimal == ",":
        s = s.replace(",", ".")
    if s.count(".") > 1:
        return None
    decimals = len(s.split(".")[1]) if "." in s else 0
    value = float(s)
    return Number(-value if negative else value, unit.upper() if len(unit) == 3 else unit, decimals)


def _number_format(numbers: list[Number]) -> str:
    decimals = min(max(n.decimals for n in numbers), 2)
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    units = {n.unit for n in numbers}
    unit = units.pop() if len(units) == 1 else ""
    if unit == "%":
        return digits + '"%"'
    if unit:
        return f'"{unit}"' + digits if len(unit) == 1 else digits + f' "{unit}"'
    return digits if decimals or any(abs(n.value) >= 1000 for n in numbers) else "General"


_HEADER_UNIT = re.compile(r"\(([^()]{1,12})\)\s*$|\[([^\[\]]{1,12})\]\s*$")


def _unit_of(header: str, numbers: list[Number]) -> str:
    """What a column counts in: the header's "(k$)" / "[ms]", else its cells' unit ("%", "€"); "" for plain counts."""
    if match := _HEADER_UNIT.search(header):
        return (match.group(1) or match.group(2)).strip().lower()
    units = {n.unit for n in numbers}
    return units.pop().lower() if len(units) == 1 else ""


def table_charts(rows: list[list[str]], *, title: str, decimal_comma: bool = False) -> list[ChartData]:
    """Chart data for a numeric table, one chart per unit: k$ beside a count on one axis would make the
    smaller series a flat line at the bottom and read as if they were comparable. [] when it stays a table."""
    chart = table_chart(rows, title=title, decimal_comma=decimal_comma)
    if chart is None or len(chart.series) < 2:
        return [chart] if chart else []
    width = len(rows[0])
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    groups: dict[str, list[int]] = {}
    for c in range(1, width):
        numbers = [parse_number(row[c], decimal_comma=decimal_comma) for row in body]
        groups.setdefault(_unit_of(rows[0][c], [n for n in numbers if n]), []).append(c)
    if len(groups) == 1:
        return [chart]
    charts = []
    for columns in groups.values():
        part = [[r[0]] + [r[c] for c in columns] for r in [rows[0], *body]]
        names = " & ".join(" ".join(rows[0][c].split()) for c in columns)
        made = table_chart(part, title=f"{title} — {names}" if title else names, decimal_comma=decimal_comma)
        if made:
            charts.append(made)
    return charts


def table_chart(rows: list[list[str]], *, title: str, decimal_comma: bool = False) -> ChartData | None:
    """Chart data when the table is a label column plus numeric columns; None when it should stay a table."""
    if len(rows) < 3:  # a header and at least two categories
        return None
    width = len(rows[0])
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    header = [" ".join(h.split()) for h in rows[0]]
    if width < 2 or len(body) > MAX_CATEGORIES or width - 1 > MAX_SERIES:
        return None
    parsed = [[parse_number(cell, decimal_comma=decimal_comma) for cell in row] for row in body]
    labels = [" ".join(row[0].split()) for row in body]
    if not all(labels) or len(set(labels)) != len(labels):
        return None
    columns = list(range(1, width))
    if not all(all(parsed[r][c] is not None for r in range(len(body))) for c in columns):
        return None  # a text column, or gaps: the chart would lose information
    series = [ChartSeries(name=(header[c] or f"Series {c}")[:80], values=[parsed[r][c].value for r in range(len(body))])
              for c in columns]
    numbers = [parsed[r][c] for r in range(len(body)) for c in columns]
    chart_type = "column"
    if len(body) >= 3 and all(_TIME_LABEL.match(label) for label in labels):
        chart_type = "line"  # a time axis
    elif len(series) == 1 and {n.unit for n in numbers} == {"%"} and len(body) <= 8 and \
            all(n.value >= 0 for n in numbers) and abs(sum(series[0].values) - 100) <= 2:
        chart_type = "pie"  # shares of a whole
    elif sum(len(label) for label in labels) / len(labels) > 16:
        chart_type = "bar"  # long category names read better on a horizontal axis
    return ChartData(type=chart_type, title=title[:600], categories=[label[:120] for label in labels],
                     series=series, number_format=_number_format(numbers))


def table_data(rows: list[list[str]]) -> tuple[TableData, str]:
    """The table cut to the slide limits, and a note saying what was cut ("" when nothing was)."""
    width = max(len(r) for r in rows)
    cells = [[" ".join(c.split())[:200] for c in (r + [""] * width)[:width]] for r in rows]
    cut = []
    if width > MAX_TABLE_COLS:
        cut.append(f"the first {MAX_TABLE_COLS} of {width} columns")
    if len(cells) - 1 > MAX_TABLE_ROWS:
        cut.append(f"the first {MAX_TABLE_ROWS} of {len(cells) - 1} rows")
    table = TableData(header=cells[0][:MAX_TABLE_COLS], rows=[r[:MAX_TABLE_COLS] for r in cells[1:MAX_TABLE_ROWS + 1]])
    return table, ("The slide shows " + " and ".join(cut) + " of the source table.") if cut else ""
