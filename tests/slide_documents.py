"""Real .docx and .pdf files made on the fly for the slide tests (no binary fixtures to rot).

Word documents are written with python-docx, PDFs with fpdf2 (a test-only dependency): both produce
what Word and common PDF writers produce — styled paragraphs, numbering, tables; text with fonts.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence

from docx import Document
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

# (kind, text) items for docx_bytes: heading0–heading3, para, bullet, bullet2, number, quote; or ("table", rows)
Item = tuple[str, object]

REPORT_DOCX: list[Item] = [
    ("heading0", "Solar for schools"),
    ("para", "A practical guide for school boards."),
    ("heading1", "Why solar"),
    ("para", "Schools have large roofs. Solar panels on school roofs cut electricity bills. "
             "Pupils learn about energy from panels on their own roof."),
    ("heading1", "Steps"),
    ("bullet", "Survey the roof"),
    ("bullet", "Get three quotes"),
    ("bullet2", "Compare warranties"),
    ("number", "Apply for the grant"),
    ("heading1", "Costs"),
    ("table", [["Item", "Cost (€)"], ["Panels", "42,000"], ["Inverter", "6,500"], ["Installation", "11,000"]]),
    ("quote", "The sun does not send an invoice."),
]


def docx_bytes(items: Sequence[Item] = REPORT_DOCX, *, core_title: str = "") -> bytes:
    document = Document()
    document.core_properties.title = core_title
    styles = {"para": None, "bullet": "List Bullet", "bullet2": "List Bullet 2", "number": "List Number",
              "quote": "Quote"}
    for kind, value in items:
        if kind.startswith("heading"):
            document.add_heading(str(value), level=int(kind[-1]))
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        else:
            document.add_paragraph(str(value), style=styles[kind])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_with_padding(size: int) -> bytes:
    """A valid .docx plus a member of `size` zero bytes (compresses ~1000:1, like a zip bomb's payload)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        zf.writestr("word/media/padding.bin", b"\0" * size)
    return out.getvalue()


def docx_with_lying_sizes(member: str = "word/document.xml", claimed: int = 100) -> bytes:
    """A .docx whose `member` claims (in both ZIP headers) to unpack to only `claimed` bytes."""
    data = bytearray(docx_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, claimed)  # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, central + 24, claimed)  # central directory: uncompressed size
            break
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return out.getvalue()


# Pages of (kind, text): title (24 pt), heading (16 pt), sub (13 pt), para (11 pt), bullets ("- a\n- b").
REPORT_PDF: list[list[tuple[str, str]]] = [
    [("title", "Solar for schools"), ("para", "A practical guide for school boards."),
     ("heading", "Why solar"),
     ("para", "Schools have large roofs that sit empty all year. Solar panels on school roofs cut electricity bills "
              "for decades. Pupils learn about energy from panels on their own roof."),
     ("para", "Grants cover part of the cost.")],
    [("heading", "Steps"), ("bullets", "- Survey the roof\n- Get three quotes\n- Apply for the grant"),
     ("sub", "Timing"), ("para", "Installation takes two weeks in the summer holidays.")],
]
_SIZES = {"title": 24, "heading": 16, "sub": 13, "para": 11, "bullets": 11}


def pdf_bytes(pages: Sequence[Sequence[tuple[str, str]]] = REPORT_PDF, *, title: str = "",
              page_numbers: bool = True, user_password: str | None = None, owner_password: str | None = None) -> bytes:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if owner_password:
        pdf.set_encryption(owner_password=owner_password, user_password=user_password,
                           encryption_method=EncryptionMethod.AES_128)
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        for kind, text in page:
            pdf.set_font("Helvetica", size=_SIZES[kind])
            pdf.multi_cell(0, _SIZES[kind] * 0.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if page_numbers:  # a footer, drawn without moving the cursor (a cell there would start a new page)
            pdf.set_font("Helvetica", size=9)
            pdf.text(pdf.w / 2, pdf.h - 10, str(number))
    return bytes(pdf.output())


def pdf_without_text(pages: int = 2) -> bytes:
    """A 'scanned' PDF: pages with only drawings, no text layer."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 170, 250, style="F")
    return bytes(pdf.output())


# An engineering write-up as people paste them: an HTML comment, a fenced ASCII diagram, a fenced code block,
# a box-drawing diagram that is not fenced, and a table mixing k$ with counts.
ENGINEERING_MD = """# Migrating the billing service to queues

<!-- TODO(ana): ask finance about the Q3 numbers before sharing -->

We moved the billing service from cron scripts to a job queue in March.
Invoices now go out within minutes instead of the next morning.
Failures are retried with backoff and show up on a dashboard instead of in a mailbox nobody reads.

## Architecture

The web app enqueues a job for each invoice.
Workers pick jobs up, render the PDF and send the email.
A reaper re-queues jobs whose worker died.

```
+---------+      +-------+      +---------+
| web app | ---> | Redis | ---> | workers |
+---------+      +-------+      +---------+
                                     |
                                     v
                                 +-------+
                                 |  SMTP |
                                 +-------+
```

## The worker loop

Each worker runs a small loop. It takes one job at a time and acknowledges it only after the email was accepted.

```python
def work(queue):
    while True:
        job = queue.pop(timeout=5)  # blocks
        if job is None:
            continue
        # render first, then send: a crash in between re-runs the job
        pdf = render(job.invoice_id)
        send(job.email, pdf)
        queue.ack(job)
```

## Results

Invoices are sent faster and fewer fail. The table shows the monthly figures before and after the move.

| Month | Revenue (k$) | Failed invoices |
|-------|-------------:|----------------:|
| Jan   | 410          | 37              |
| Feb   | 432          | 41              |
| Mar   | 455          | 12              |
| Apr   | 470          | 6               |

## Deployment

The deploy diagram from the wiki:

┌──────────┐    ┌──────────┐
│  deploy  │───▶│  canary  │
└──────────┘    └──────────┘

## Costs

Running two workers costs about as much as the old cron box. Redis runs on the existing cache server.

## Next steps

- Move reminders to the same queue
- Add a dead-letter queue for invoices that fail five times
- Alert when the queue is older than ten minutes

## Risks

A stuck worker can hold a job until the reaper notices it. Redis is now a single point of failure for billing.

## Team

Ana led the migration. Bo wrote the reaper. Cy ran the load tests.

## Appendix: load test

We replayed one month of invoices in an hour. The queue never grew beyond 200 jobs. Workers used under 300 MB each.
"""

# A quarterly report as a designer pasted it: every sentence ends up on a slide, one table mixes k€ with %, and
# a code block sits under a list. The local engine used to give the list slides another section's notes.
Q3_REPORT_MD = """# Q3 Product Review — Northwind Coffee

## Summary

Revenue grew **18%** quarter over quarter, driven by the new cold-brew line and
subscriptions in the Nordics. Churn fell to 3.1%.

## Regional results

| Region | Q2 revenue (k€) | Q3 revenue (k€) | Growth |
|---|---|---|---|
| Nordics | 410 | 520 | 27% |
| DACH | 380 | 415 | 9% |
| Benelux | 210 | 236 | 12% |
| UK | 300 | 322 | 7% |

## What changed in the app

- One-tap reorder from the home screen
- Subscription pause (instead of cancel)
- Café locator rewritten in Kotlin

```python
def churn(active_start, cancelled):
    return cancelled / active_start

print(f"{churn(12000, 372):.1%}")
```

## Risks

1. Green-bean prices up 22% year on year.
2. Two roasters at capacity until February.

## Next quarter

Launch in Poland, hire two baristas-trainers, and ship the loyalty programme.
"""

# Code as Word keeps it: one paragraph per line (what a .docx pasted into the deck form becomes).
CODE_DOCX: list[Item] = [
    ("heading0", "Queue workers"),
    ("heading1", "Why a queue"),
    ("para", "Invoices used to go out the next morning. A queue sends them within minutes and retries failures."),
    ("heading1", "The loop"),
    ("para", "def work(queue):"),
    ("para", "    while True:"),
    ("para", "        job = queue.pop(timeout=5)"),
    ("para", "        send(job); queue.ack(job);"),
    ("para", "The worker acknowledges a job only after the email was accepted."),
    ("heading1", "Risks"),
    ("para", "A stuck worker holds its job until the reaper notices. Redis is a single point of failure."),
]
