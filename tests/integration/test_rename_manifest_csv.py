"""manifest.csv carries uploaded names: no cell may start a spreadsheet formula (OWASP CSV injection)."""

import csv
import io
import zipfile

from tests import images
from tests.integration.test_api_auth import ORIGIN
from tests.integration.test_rename import run_jobs, signed_in, upload  # noqa: F401 (fixture)

NAMES = ["=1+1.jpg", "+HYPERLINK(evil).jpg", "@SUM(A1).jpg", "-2+3.jpg", "plain.jpg"]


def test_formula_like_names_are_quoted_in_the_csv_and_kept_in_the_json(signed_in):  # noqa: F811
    assets = upload(signed_in, [(name, images.jpeg(160, 120, seed=40 + i), "image/jpeg")
                                for i, name in enumerate(NAMES)])
    run_jobs()
    response = signed_in.post("/api/v1/rename/batches", headers=ORIGIN, json={
        "asset_ids": [a["id"] for a in assets], "options": {"keywords": ["=cmd|' /C calc'!A0"], "ocr": False}})
    run_jobs()
    archive = zipfile.ZipFile(io.BytesIO(signed_in.get(
        f"/api/v1/rename/batches/{response.json()['id']}/download").content))
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    originals = [r["original_name"] for r in rows]
    assert sorted(originals) == sorted(["'=1+1.jpg", "'+HYPERLINK(evil).jpg", "'@SUM(A1).jpg", "'-2+3.jpg",
                                        "plain.jpg"])
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_the_escape_rule():
    from app.services.rename.csv_cells import spreadsheet_safe

    for raw in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert spreadsheet_safe(raw) == "'" + raw
    assert [spreadsheet_safe(v) for v in ("a=1", "", 42, None, "'=x")] == ["a=1", "", 42, None, "'=x"]
