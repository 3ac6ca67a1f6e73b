"""Text extraction from uploaded source documents: Markdown, plain text, Word and PDF files made at test time."""

from __future__ import annotations

import pytest

from app.errors import TooLarge
from app.services.slides.engine.extract import (
    DocumentError,
    extract_text,
    sniff_kind,
    title_from_filename,
)
from tests.slide_documents import (
    docx_bytes,
    docx_with_lying_sizes,
    docx_with_padding,
    pdf_bytes,
    pdf_without_text,
    zip_bytes,
)


def refused(data: bytes, filename: str, **limits) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        extract_text(data=data, filename=filename, **limits)
    return caught.value


# --- text and Markdown ---------------------------------------------------------------------------

def test_markdown_passes_through_with_its_h1_as_title():
    doc = extract_text(data=b"# Solar for schools\r\n\r\n## Why\r\n\r\n- cheap\r\n", filename="deck.md")
    assert doc.markdown == "# Solar for schools\n\n## Why\n\n- cheap"
    assert doc.title == "Solar for schools" and doc.kind == "text" and doc.warnings == []


def test_a_utf8_bom_is_dropped_and_utf16_with_a_bom_is_read():
    assert extract_text(data=b"\xef\xbb\xbfCaf\xc3\xa9 notes", filename="a.txt").markdown == "Café notes"
    assert extract_text(data="Grüße aus Köln".encode("utf-16"), filename="b.txt").markdown == "Grüße aus Köln"


def test_text_that_is_not_utf8_is_read_as_windows_1252_with_a_warning():
    doc = extract_text(data=b"Caf\xe9 cr\xe8me \x93quoted\x94", filename="old.txt")
    assert doc.markdown == "Café crème “quoted”"
    assert "Windows-1252" in doc.warnings[0]


def test_a_plain_text_files_short_first_line_is_its_title():
    doc = extract_text(data=b"Quarterly review\n\nSales grew. Costs fell.", filename="q3_review-final.txt")
    assert doc.title == "Quarterly review"
    doc = extract_text(data=b"Sales grew in every region this quarter. Costs fell.", filename="q3_review-final.txt")
    assert doc.title == "Q3 review final"


@pytest.mark.parametrize("data, said", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "a PNG image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 40, "old-style Office file"),
    (b"{\\rtf1\\ansi hello}", "an RTF document"),
    (b"ELF\x02\x01\x01\0\0\0\0binary", "binary file"),
    (b"text with control characters \x01\x02\x03\x04\x05\x06", "binary file"),
])
def test_binary_files_are_refused_with_what_they_are(data, said):
    error = refused(data, "notes.txt")
    assert said in error.message and error.code == "unsupported_document"


def test_the_bytes_decide_and_a_disagreeing_extension_is_an_error():
    assert refused(docx_bytes(), "report.pdf").code == "mismatched_document"
    assert "named like a PDF but its content is a Word document" in refused(docx_bytes(), "report.pdf").message
    assert refused(b"# just text", "report.docx").code == "mismatched_document"
    assert refused(pdf_bytes(), "report.md").code == "mismatched_document"
    assert extract_text(data=pdf_bytes(), filename="upload").kind == "pdf"  # no extension: the bytes alone decide


def test_unsupported_extensions_and_empty_files_are_refused():
    assert refused(b"MZ\x90\x00", "setup.exe").code == "unsupported_document"
    assert refused(b"  \n ", "empty.md").code == "empty_document"
    assert refused(b"---\n\n***\n", "rules.md").code == "empty_document"


def test_files_over_the_size_limit_are_refused_before_parsing():
    with pytest.raises(TooLarge, match="limit is 1 MB"):
        extract_text(data=b"a" * 1_000_001, filename="big.md", max_bytes=1_000_000)


def test_long_text_is_cut_at_a_paragraph_end_with_a_warning():
    text = "\n\n".join(f"Paragraph {n} says something." for n in range(100))
    doc = extract_text(data=text.encode(), filename="long.md", max_chars=500)
    assert len(doc.markdown) <= 500 and doc.markdown.endswith("says something.")
    assert "only the first 500 are used" in doc.warnings[0]


def test_sniffing_and_file_name_titles():
    assert sniff_kind(b"junk before header %PDF-1.7\n...\n%%EOF\n") == "pdf"
    assert sniff_kind(b"A note: every PDF file starts with %PDF-1.x, then objects.") == "text"
    assert sniff_kind(b"PK\x03\x04rest") == "docx"
    assert sniff_kind("Ünïcödé text".encode()) == "text"
    assert title_from_filename("q3_sales-review.final.md") == "Q3 sales review final"
    assert title_from_filename("__.md") == "Untitled"


# --- Word ----------------------------------------------------------------------------------------

def test_docx_headings_lists_quotes_and_tables_become_markdown():
    doc = extract_text(data=docx_bytes(), filename="guide.docx")
    assert doc.kind == "docx" and doc.title == "Solar for schools"
    assert doc.markdown == (
        "# Solar for schools\n\n"
        "A practical guide for school boards.\n\n"
        "## Why solar\n\n"
        "Schools have large roofs. Solar panels on school roofs cut electricity bills. "
        "Pupils learn about energy from panels on their own roof.\n\n"
        "## Steps\n\n"
        "- Survey the roof\n- Get three quotes\n  - Compare warranties\n1. Apply for the grant\n\n"
        "## Costs\n\n"
        "| Item | Cost (€) |\n|---|---|\n| Panels | 42,000 |\n| Inverter | 6,500 |\n| Installation | 11,000 |\n\n"
        "> The sun does not send an invoice."
    )


def test_docx_without_a_title_style_keeps_heading_levels_and_escapes_markdown_in_text():
    data = docx_bytes([("heading1", "Intro"), ("para", "# not a heading"), ("para", "1. not a list"),
                       ("table", [["a|b", "c"], ["1", "2"]])], core_title="Board pack")
    doc = extract_text(data=data, filename="pack.docx")
    assert doc.title == "Board pack"  # the document's own title property wins
    assert doc.markdown == "# Intro\n\n\\# not a heading\n\n1\\. not a list\n\n| a\\|b | c |\n|---|---|\n| 1 | 2 |"


def test_a_docx_that_unpacks_too_big_is_refused_before_parsing():
    error = refused(docx_with_padding(3 * 2**20), "bomb.docx", max_unzipped_bytes=2 * 2**20)
    assert error.code == "document_too_large" and "more than the 2 MB allowed" in error.message


def test_a_docx_whose_zip_headers_understate_a_size_fails_instead_of_inflating():
    # zipfile stops at the declared size, so the size check above cannot be dodged by lying headers.
    error = refused(docx_with_lying_sizes(), "liar.docx")
    assert "cannot be read" in error.message and "CRC" in error.message


@pytest.mark.parametrize("files, said", [
    ({"xl/workbook.xml": b"<x/>"}, "an Excel workbook"),
    ({"ppt/presentation.xml": b"<x/>"}, "a PowerPoint presentation"),
    ({"photos/cat.jpg": b"\xff\xd8"}, "a ZIP archive"),
])
def test_other_zip_files_are_named_and_refused(files, said):
    assert said in refused(zip_bytes(files), "upload.docx").message


def test_a_damaged_docx_is_refused():
    assert "damaged" in refused(docx_bytes()[:500], "cut.docx").message


# --- PDF -----------------------------------------------------------------------------------------

def test_pdf_headings_come_from_font_sizes_and_page_numbers_are_dropped():
    doc = extract_text(data=pdf_bytes(title="Microsoft Word - guide.docx"), filename="guide.pdf")
    assert doc.kind == "pdf" and doc.title == "Solar for schools" and doc.warnings == []
    assert doc.markdown == (
        "# Solar for schools\n\n"
        "A practical guide for school boards.\n\n"
        "## Why solar\n\n"
        "Schools have large roofs that sit empty all year. Solar panels on school roofs cut electricity bills "
        "for decades. Pupils learn about energy from panels on their own roof.\n\n"
        "Grants cover part of the cost.\n\n"
        "## Steps\n\n"
        "- Survey the roof\n- Get three quotes\n- Apply for the grant\n\n"
        "### Timing\n\n"
        "Installation takes two weeks in the summer holidays."
    )


def test_pdf_title_falls_back_to_meaningful_metadata():
    pages = [[("para", "Just one paragraph of text without any heading at all, long enough to count.")]]
    assert extract_text(data=pdf_bytes(pages, title="Energy audit 2026"), filename="a.pdf").title == "Energy audit 2026"
    assert extract_text(data=pdf_bytes(pages, title="untitled"), filename="audit_2026.pdf").title == "Audit 2026"


def test_a_password_protected_pdf_is_refused_clearly():
    error = refused(pdf_bytes(user_password="secret", owner_password="owner"), "locked.pdf")
    assert error.code == "encrypted_document" and "password-protected" in error.message


def test_a_pdf_protected_only_against_editing_is_read():
    doc = extract_text(data=pdf_bytes(user_password="", owner_password="owner"), filename="protected.pdf")
    assert doc.markdown.startswith("# Solar for schools")


def test_a_scanned_pdf_without_text_is_refused_clearly():
    error = refused(pdf_without_text(), "scan.pdf")
    assert error.code == "no_text" and "OCR" in error.message


def test_a_damaged_pdf_is_refused():
    assert "damaged" in refused(b"%PDF-1.4\n1 0 obj << /Type /Catalog", "broken.pdf").message


def test_pdf_pages_beyond_the_limit_are_skipped_with_a_warning():
    pages = [[("heading", f"Part {n}"), ("para", f"Text of part {n} is here.")] for n in range(1, 5)]
    doc = extract_text(data=pdf_bytes(pages), filename="parts.pdf", max_pages=2)
    assert "# Part 2" in doc.markdown and "Part 3" not in doc.markdown
    assert doc.warnings == ["Only the first 2 of 4 pages were read."]
