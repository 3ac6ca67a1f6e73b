"""Excel/OOXML number formats, as PowerPoint applies them to a chart's axis labels (for the preview).

Only what the renderer and the chat engine write, plus the rules that decide what a character means
(ECMA-376 Part 1, 18.8.31): text in double quotes or after a backslash is literal, so `#,##0"%"` shows
27 as "27%"; a bare `%` multiplies by 100, so `0%` shows 0.27 as "27%". Sections: positive;negative;zero.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

PLACEHOLDERS = "0#?.,"


def _sections(number_format: str) -> list[str]:
    """The format split at `;` outside quotes, brackets and escapes."""
    sections, current, i = [], "", 0
    quoted = bracket = False
    while i < len(number_format):
        char = number_format[i]
        if char == "\\" and not quoted and i + 1 < len(number_format):
            current += number_format[i:i + 2]
            i += 2
            continue
        if char == '"' and not bracket:
            quoted = not quoted
        elif char == "[" and not quoted:
            bracket = True
        elif char == "]" and not quoted:
            bracket = False
        elif char == ";" and not quoted and not bracket:
            sections.append(current)
            current = ""
            i += 1
            continue
        current += char
        i += 1
    return [*sections, current]


def _tokens(section: str) -> list[tuple[str, str]]:
    """("text", literal) / ("digits", placeholder characters) / ("percent", "%") / ("general", "")."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        char = section[i]
        if char == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            out.append(("text", section[i + 1:end]))
            i = end + 1
        elif char == "\\" and i + 1 < len(section):
            out.append(("text", section[i + 1]))
            i += 2
        elif char == "[":
            end = section.find("]", i)
            end = len(section) if end < 0 else end
            inside = section[i + 1:end]
            if inside.startswith("$"):  # [$€-407]: a currency symbol and a locale; colours and conditions show nothing
                out.append(("text", inside[1:].split("-", 1)[0]))
            i = end + 1
        elif char in "_*" and i + 1 < len(section):  # _x pads the width of x, *x repeats x: nothing to draw here
            i += 2
        elif char == "%":
            out.append(("percent", "%"))
            i += 1
        elif section[i:i + 7].lower() == "general":
            out.append(("general", ""))
            i += 7
        elif char in PLACEHOLDERS:
            out.append(("digits", char))
            i += 1
        else:
            out.append(("text", char))
            i += 1
    return out


def _general(value: float) -> str:
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e11:
        return str(int(value))
    return f"{value:.10g}"


def _grouped(digits: str) -> str:
    head = len(digits) % 3 or 3
    return ",".join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def _digits(value: float, pattern: str) -> str:
    """`value` (not negative) laid out by its placeholders: `#,##0.0#`, `0.00`, `#,##0,` (thousands)…"""
    whole, _, fraction = pattern.partition(".")
    scaled = whole.rstrip(",")
    value /= 1000 ** (len(whole) - len(scaled))  # each comma after the last digit divides by 1,000
    shown_min = fraction.count("0")
    shown_max = sum(fraction.count(c) for c in "0#?")
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-shown_max), rounding=ROUND_HALF_UP)
    integer, _, decimals = f"{rounded:f}".partition(".")
    integer = integer.lstrip("0").zfill(scaled.count("0")) if scaled.count("0") else integer.lstrip("0")
    if "," in scaled:
        integer = _grouped(integer)
    if "." not in pattern:
        return integer
    return integer + "." + decimals.rstrip("0").ljust(shown_min, "0")


def format_number(value: float, number_format: str) -> str:
    """`value` as PowerPoint labels it with `number_format` (an Excel format code)."""
    if not math.isfinite(value):
        return _general(value)
    sections = _sections(number_format or "General")
    negative = value < 0
    section = sections[0]
    if negative and len(sections) > 1:
        section, negative = sections[1], False  # the negative section shows the sign its own way
        value = -value
    elif value == 0 and len(sections) > 2:
        section = sections[2]
    tokens = _tokens(section)
    magnitude = abs(value) * 100 ** sum(kind == "percent" for kind, _ in tokens)
    pattern = "".join(text for kind, text in tokens if kind == "digits")
    out, placed = [], False
    for kind, text in tokens:
        if kind in ("digits", "general") and not placed:
            out.append(_digits(magnitude, pattern) if kind == "digits" and pattern.strip(".,") else _general(magnitude))
            placed = True
        elif kind in ("text", "percent"):
            out.append(text)
    if not placed and not any(kind == "text" for kind, _ in tokens):
        out.append(_general(magnitude))
    return ("-" if negative else "") + "".join(out)
