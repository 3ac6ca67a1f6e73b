"""Chart and table data typed or pasted into the outline editor: round trips, spreadsheet pastes, bad cells."""

import pytest

from app.services.slides.engine.model import (
    MAX_CATEGORIES,
    ChartData,
    ChartSeries,
    Outline,
    Slide,
    TableData,
)
from app.services.slides.outline_data import (
    DataProblem,
    chart_text,
    parse_chart,
    parse_number,
    parse_table,
    table_text,
)
from app.services.slides.outline_rows import outline_from_rows, row_of

CHART = ChartData(type="line", title="Output", number_format="0.0", category_label="Year",
                  categories=["2023", "2024, est."],
                  series=[ChartSeries(name="kWh", values=[5, 8.25]), ChartSeries(name="Cost, €", values=[-1.5, 0])])


def test_chart_text_round_trips_exactly_with_commas_in_names():
    text = chart_text(CHART)
    assert text.splitlines()[0] == 'Year,kWh,"Cost, €"'
    back = parse_chart(text, kind="line", title="Output", number_format="0.0")
    assert back == CHART


def test_the_first_header_cell_is_kept_through_a_save():
    """A pasted 'Region' header came back as 'Category' after a save: the label had nowhere to live."""
    pasted = "Region\tQ1 2025\tQ2 2025\nNorth\t12\t14\nSouth\t9\t11"
    outline = Outline(title="Deck", slides=[Slide(id="s1", layout="chart", title="Sales", chart=CHART)])
    row = row_of(outline.slides[0], 1, "")
    row["data_text"] = pasted
    saved = Outline.model_validate(outline_from_rows([row], outline, "Deck").model_dump())
    assert saved.slides[0].chart.category_label == "Region"
    assert row_of(saved.slides[0], 1, "")["data_text"].splitlines()[0] == "Region,Q1 2025,Q2 2025"
    assert chart_text(CHART.model_copy(update={"category_label": ""})).startswith("Category,")  # older decks


def test_a_spreadsheet_paste_with_tabs_thousands_and_units():
    pasted = "Quarter\tRevenue\tMargin\t\nQ1\t$1,200\t12 %\t\nQ2\t1 450,5\t−3%\n"
    chart = parse_chart(pasted, kind="column")
    assert chart.categories == ["Q1", "Q2"] and [s.name for s in chart.series] == ["Revenue", "Margin"]
    assert chart.series[0].values == [1200, 1450.5] and chart.series[1].values == [12, -3]


@pytest.mark.parametrize(("cell", "value"), [
    ("42", 42), ("-0.5", -0.5), ("1,234.5", 1234.5), ("3,5", 3.5), ("1,234,567", 1234567), ("€ 9", 9),
    ("\u22127", -7), ("1e3", 1000), ("", None), ("n/a", None), ("nan", None), ("inf", None), ("1,2,3", None),
])
def test_numbers_people_type(cell, value):
    assert parse_number(cell) == value


@pytest.mark.parametrize(("text", "says"), [
    ("", "header line"),
    ("Category,Sales", "header line"),
    ("Only a label\nA", "header line"),
    ("Category,Sales\nQ1,10\nQ2,lots", "line 3 (Q2), column “Sales” has “lots”, which is not a number"),
    ("Category,Sales,Cost\nQ1,10", "line 2 (Q1), column “Cost” is empty"),
    ("Category,Sales\nQ1,10,11", "line 2 (Q1) has 2 numbers for 1 series"),
    ("C," + ",".join(f"s{i}" for i in range(9)) + "\nA," + ",".join("1" * 9), "at most 8 series"),
    ("C,S\n" + "\n".join(f"c{i},{i}" for i in range(MAX_CATEGORIES + 1)), f"at most {MAX_CATEGORIES} categories"),
    ("C,S\nA,1" + " " * 20_000, "longer than 20,000 characters"),
])
def test_bad_chart_data_says_where(text, says):
    with pytest.raises(DataProblem) as problem:
        parse_chart(text, kind="column")
    assert says in str(problem.value)


def test_unknown_chart_type_is_refused():
    with pytest.raises(DataProblem, match="chart type must be one of"):
        parse_chart("C,S\nA,1", kind="radar")


def test_tables_round_trip_pad_short_rows_and_refuse_wide_ones():
    table = TableData(header=["Plan", "Price, monthly"], rows=[["Pro", "12"], ["Team", ""]])
    assert parse_table(table_text(table)) == table
    assert parse_table("A\tB\tC\nx").rows == [["x", "", ""]]
    with pytest.raises(DataProblem, match="line 2 has 3 cells; the header has 2 columns"):
        parse_table("A,B\n1,2,3")
    with pytest.raises(DataProblem, match="at most 10 columns"):
        parse_table(",".join("abcdefghijk"))
    with pytest.raises(DataProblem, match="longer than 600 characters"):
        parse_table("A\n" + "x" * 601)


def test_the_editor_edits_chart_and_table_data_and_names_the_slide_on_errors():
    outline = Outline(title="Deck", slides=[
        Slide(id="s1", layout="chart", title="Output", chart=CHART),
        Slide(id="s2", title="Plans", bullets=["Pro"]),
    ])
    rows = [row_of(s, i, "") for i, s in enumerate(outline.slides, start=1)]
    assert rows[0]["chart_type"] == "line" and rows[0]["data_text"] == chart_text(CHART)
    rows[0]["chart_type"] = "bar"
    rows[0]["data_text"] = "Year\tkWh\n2023\t6\n2024\t9\n2025\t11"
    rows[1]["layout"] = "table"
    rows[1]["data_text"] = "Plan,Seats\nPro,1\nTeam,10"
    back = outline_from_rows(rows, outline, "Deck")
    chart = back.slides[0].chart
    assert chart.type == "bar" and chart.categories == ["2023", "2024", "2025"]
    assert chart.title == "Output" and chart.number_format == "0.0"  # kept: the editor does not show them
    assert back.slides[1].table == TableData(header=["Plan", "Seats"], rows=[["Pro", "1"], ["Team", "10"]])

    rows[1]["data_text"] = "Plan,Seats\nPro,1,extra"
    with pytest.raises(DataProblem, match="slide 2: line 2 has 3 cells"):
        outline_from_rows(rows, outline, "Deck")
    rows[1]["data_text"] = "  "
    with pytest.raises(DataProblem, match="slide 2 is a table: give it data"):
        outline_from_rows(rows, outline, "Deck")
