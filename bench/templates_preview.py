"""Email template preview: what the editor runs on every edit, against the bare MJML render of the same email.

A 12-section newsletter (hero image, headings, paragraphs, a loop over products, buttons, a two-column
section, social links, footer) with declared variables. `preview` = the save-time checks
(`check_source`: schema, Jinja parse, undeclared variables, tag balance, a compile with fallbacks) + the
render with sample data (Jinja sandbox → MJML → plain text) + the automatic checklist. Each run is an
edit (the source differs by a word, so no compiled template is reused). `bare` = `mjml2html` of the same
email with the values already written in. ratio = 50 ms / preview p95 (≥ 1 passes: the page
re-renders on every edit); the bare figure is printed beside it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import mjml

from bench.common import print_table, write_result

LIMIT_MS = 50.0
SCHEMA = {"type": "object", "required": ["first_name", "products"], "properties": {
    "first_name": {"type": "string", "default": "there"},
    "month": {"type": "string", "default": "March"},
    "discount": {"type": "integer", "minimum": 0, "maximum": 100, "default": 15},
    "products": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "price": {"type": "string"}, "image": {"type": "string"}}}},
    "show_survey": {"type": "boolean", "default": True},
}}
DATA = {"first_name": "Ana", "products": [
    {"name": f"Linen chair {n}", "price": f"${90 + n}", "image": f"https://cdn.example.com/p/{n}.jpg"}
    for n in range(6)]}


def _section(n: int) -> str:
    kinds = [
        '<mj-image src="https://cdn.example.com/hero.jpg" alt="Spring collection" />'
        '<mj-text font-size="28px">Hello {{ first_name }}, the {{ month }} edit is here</mj-text>',
        '<mj-text>{{ discount }}% off everything in the studio until the end of {{ month }}. '
        'Pieces made by hand in small runs; each ships in recycled packaging.</mj-text>',
        '{% for p in products %}<mj-text><b>{{ p.name }}</b> — {{ p.price }}</mj-text>{% endfor %}',
        '<mj-button href="https://shop.example.com/spring?src=email">Shop the edit</mj-button>',
        '{% if show_survey %}<mj-text>Tell us what you think: <a href="https://example.com/survey">'
        'a two-minute survey</a>.</mj-text>{% endif %}',
        '<mj-divider border-color="#d4c5b0" />',
    ]
    return (f'<mj-section padding="{8 + n}px 0"><mj-column>{kinds[n % len(kinds)]}</mj-column>'
            f'<mj-column><mj-text>Section {n + 1}</mj-text></mj-column></mj-section>')


SOURCE = ("<mjml><mj-head><mj-title>Spring edit</mj-title><mj-attributes><mj-all font-family=\"Helvetica, Arial\" />"
          "</mj-attributes></mj-head><mj-body>\n" + "\n".join(_section(n) for n in range(12)) + "\n</mj-body></mjml>")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> dict:
    from app.services.templates import checks
    from app.services.templates import email as em

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    bare_source = em.render(SOURCE, SCHEMA, DATA)  # warm, and the values written in for the bare run
    written = em._ENV.from_string(SOURCE).render(em._sample(SCHEMA, DATA))
    preview, bare = [], []
    for n in range(args.runs):
        # Each run is an edit: a new source (no compiled template to reuse), the same variables.
        source = SOURCE.replace("Section 1<", f"Section 1 (edit {n})<")
        start = time.perf_counter()
        em.check_source(source, SCHEMA)
        out = em.render(source, SCHEMA, DATA)
        checks.run(out, source)
        preview.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        mjml.mjml2html(written)
        bare.append((time.perf_counter() - start) * 1000)
    p95, bare_p95 = _p95(preview), _p95(bare)
    result = write_result("templates_preview", LIMIT_MS / p95, 1.0, preview_p95_ms=round(p95, 2),
                          preview_p50_ms=round(statistics.median(preview), 2), bare_mjml_p95_ms=round(bare_p95, 2),
                          preview_vs_bare=round(bare_p95 / p95, 3), html_kb=round(bare_source.size_bytes / 1024, 1),
                          runs=args.runs)
    print_table([result])
    print(f"templates_preview: p95 {p95:.2f} ms (limit {LIMIT_MS:.0f} ms); bare MJML p95 {bare_p95:.2f} ms; "
          f"HTML {bare_source.size_bytes / 1024:.1f} KB")
    return result


if __name__ == "__main__":
    main()
