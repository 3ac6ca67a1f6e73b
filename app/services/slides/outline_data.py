"""Chart and table data as text the outline editor shows and takes back (pure helpers, no Reflex).

The text is what a spreadsheet gives when its cells are copied: one line per row, cells split by
tabs (a paste) or commas (typed; quote a cell that holds a comma). The first line is the header.
For a chart, the header names the category column and then each series; every following line is
one category and its numbers. Bad text gets a message naming the line and the cell.
"""

from __future__ import annotations

import csv
import io
import math
from typing import get_args

from app.services.slides.engine import text_tables
from app.services.slides.engine.model import (
    MAX_CATEGORIES,
    MAX_LABEL,
    MAX_SERIES,
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    MAX_TEXT,
    ChartData,
    ChartSeries,
    ChartType,
    TableData,
)

CHART_TYPES = list(get_args(ChartType))
# The header cell shown for a chart with no label of its own (the placeholder, not stored back).
DEFAULT_CATEGORY_LABEL = "Category"
MAX_DATA_CHARS = 20_000


class DataProblem(ValueError):
    """The data text cannot become a chart or a table; the message says where and why."""


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _write(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().rstrip("\n")


def chart_text(chart: ChartData) -> str:
    """A chart's data as editable text: the header line, then one line per category."""
    rows = [[chart.category_label or DEFAULT_CATEGORY_LABEL, *[s.name for s in chart.series]]]
    rows += [[category, *[_number_text(s.values[i]) for s in chart.series]]
             for i, category in enumerate(chart.categories)]
    return _write(rows)


def table_text(table: TableData) -> str:
    return _write([table.header, *table.rows])


def _rows(text: str) -> list[list[str]]:
    if len(text) > MAX_DATA_CHARS:
        raise DataProblem(f"the data is longer than {MAX_DATA_CHARS:,} characters")
    lines = [line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]
    delimiter = "\t" if any("\t" in line for line in lines) else ","
    rows = [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=delimiter)]
    for row in rows:  # a trailing empty cell is what a copied spreadsheet row often ends with
        while len(row) > 1 and row[-1] == "":
            row.pop()
    return rows


def parse_number(cell: str) -> float | None:
    """'1,234.5', '3,5', '12 %', '$3.2', '−4', '1e3' → the number; None when it is not one.

    The source-table reader's parser (thousands vs decimal commas, units), plus plain float syntax
    for what people type by hand (exponents); never NaN or infinity.
    """
    number = text_tables.parse_number(cell)
    if number is not None:
        return number.value
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_chart(text: str, *, kind: str, title: str = "", number_format: str = "General") -> ChartData:
    if kind not in CHART_TYPES:
        raise DataProblem(f"the chart type must be one of: {', '.join(CHART_TYPES)}")
    rows = _rows(text)
    if len(rows) < 2 or len(rows[0]) < 2:
        raise DataProblem("a chart needs a header line (the category label, then one name per series) "
                          "and at least one line of numbers")
    names = [name or f"Series {i}" for i, name in enumerate(rows[0][1:], start=1)]
    if len(names) > MAX_SERIES:
        raise DataProblem(f"a chart takes at most {MAX_SERIES} series; the header names {len(names)}")
    if len(rows) - 1 > MAX_CATEGORIES:
        raise DataProblem(f"a chart takes at most {MAX_CATEGORIES} categories; there are {len(rows) - 1} lines")
    categories, values = [], [[] for _ in names]
    for line, row in enumerate(rows[1:], start=2):
        category = row[0] or f"#{line - 1}"
        if len(row) - 1 > len(names):
            raise DataProblem(f"line {line} ({category}) has {len(row) - 1} numbers for {len(names)} series")
        for column, name in enumerate(names, start=1):
            cell = row[column] if column < len(row) else ""
            number = parse_number(cell)
            if number is None:
                what = "is empty" if not cell else f"has “{cell[:40]}”, which is not a number"
                raise DataProblem(f"line {line} ({category}), column “{name}” {what}")
            values[column - 1].append(number)
        categories.append(category)
    label = "" if rows[0][0] == DEFAULT_CATEGORY_LABEL else rows[0][0][:MAX_LABEL]
    return ChartData(type=kind, title=title, category_label=label, categories=categories,
                     number_format=number_format,
                     series=[ChartSeries(name=name[:80], values=vals) for name, vals in zip(names, values,
                                                                                           strict=True)])


def parse_table(text: str) -> TableData:
    rows = _rows(text)
    if not rows:
        raise DataProblem("a table needs at least its header line")
    width = len(rows[0])
    if width > MAX_TABLE_COLS:
        raise DataProblem(f"a table takes at most {MAX_TABLE_COLS} columns; the header has {width}")
    if len(rows) - 1 > MAX_TABLE_ROWS:
        raise DataProblem(f"a table takes at most {MAX_TABLE_ROWS} rows under its header; there are "
                          f"{len(rows) - 1}")
    for line, row in enumerate(rows, start=1):
        if len(row) > width:
            raise DataProblem(f"line {line} has {len(row)} cells; the header has {width} columns")
        for cell in row:
            if len(cell) > MAX_TEXT:
                raise DataProblem(f"line {line} has a cell longer than {MAX_TEXT} characters")
    return TableData(header=rows[0], rows=rows[1:])
