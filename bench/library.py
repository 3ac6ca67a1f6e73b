"""Library search on 100,000 pictures: `search()` (page of 60 + total) against hand-written SQL.

One owner with 100,000 assets (camera names like DSC_4100.jpg and descriptive ones like beach-sunset-….jpg,
0–6 tags from a vocabulary of ~500, OCR words on ~20 %, alt text on ~50 %, a dozen cameras, dates taken over
five years, 12 colour names, mixed sizes, orientations and origins, 1 % deleted) and 3,000 of another owner,
bulk-inserted. The ten most common searches each run ~20 times through `search()` and as bare SQL on the same
data and the same indexes (FTS5 / GIN, the tag index), alternating. ratio = bare p95 / search p95 for the
worst of the ten (target ≥ 0.5); the worst absolute p95 of `search()` is held to ≤ 50 ms. SQLite always;
PostgreSQL as a second row when 127.0.0.1:5432 answers.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from bench.common import Environment, postgres_database, print_table, write_result

TARGET_RATIO = 0.5
TARGET_P95_MS = 50.0
ASSETS, OTHER_ASSETS = 100_000, 3_000
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

SUBJECTS = ("beach sunset mountain lake forest city street portrait wedding bride groom dog cat horse bird flower "
            "garden tree river bridge tower church market food coffee cake bread pasta pizza wine beer car bike "
            "train boat harbour island desert snow ski winter summer autumn spring night sky cloud rain storm "
            "fog field farm cow sheep barn kitchen office desk laptop phone book library museum gallery statue "
            "fountain park playground school stadium concert stage crowd festival parade fireworks candle "
            "lantern window door roof wall brick stone wood glass metal paper fabric leather shoe dress shirt "
            "hat bag watch ring necklace logo poster banner flyer menu sign label package bottle jar cup plate "
            "bowl chair table sofa lamp bed bath shower pool hotel airport plane runway road highway tunnel "
            "cliff cave waterfall volcano canyon valley meadow vineyard orchard olive lemon orange apple "
            "strawberry chocolate").split()
ADJECTIVES = "red blue green golden misty quiet busy old new tiny huge bright dark vintage modern rustic".split()
COLOURS = ("black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
           "multicolor")
CAMERAS = ("Canon EOS R5", "Canon EOS 5D Mark IV", "NIKON D850", "NIKON Z 6", "SONY ILCE-7M3", "FUJIFILM X-T4",
           "Apple iPhone 15 Pro", "Apple iPhone 13", "Google Pixel 8", "samsung SM-S918B", "Leica Q2",
           "OLYMPUS E-M10")
SIZES = ((6000, 4000), (4000, 6000), (1080, 1350), (1024, 1024), (1920, 1080), (4032, 3024), (3024, 4032),
         (5472, 3648), (800, 800))
OCR_WORDS = ("sale open closed menu exit welcome coffee espresso latte price total receipt street avenue "
             "station platform gate entrance parking hotel restaurant bakery pharmacy tickets today special "
             "offer free new summer winter event concert festival 2024 2023 50 off").split()

# The ten most common searches (what the library page and the pickers send most).
QUERIES = [
    ("a tag", {"tags": ["beach"]}),
    ("a word", {"q": "sunset"}),
    ("a word prefix", {"q": "sun"}),
    ("a date range", {"taken_from": date(2023, 3, 1), "taken_to": date(2023, 5, 31)}),
    ("a colour", {"colour": "blue"}),
    ("tag + word", {"tags": ["travel"], "q": "beach"}),
    ("word + date", {"q": "sunset", "taken_from": date(2022, 1, 1), "taken_to": date(2022, 12, 31)}),
    ("camera", {"camera": "Canon EOS R5"}),  # a pick from the camera menu
    ("orientation + colour", {"orientation": "portrait", "colour": "green"}),
    ("two words", {"q": "beach sunset"}),
]


def _vocabulary(rng: random.Random) -> list[str]:
    """~500 tags: the subjects, the places and moods people add, clients and projects."""
    tags = list(dict.fromkeys(SUBJECTS + ["travel", "family", "holiday", "work", "client", "draft", "final",
                                          "approved", "social", "print", "web", "instagram", "favourite"]))
    tags += [f"{a} {s}" for a, s in zip(ADJECTIVES * 20, rng.sample(SUBJECTS, len(SUBJECTS)), strict=False)][:150]
    tags += [f"client-{n:03d}" for n in range(60)] + [f"project-{n:03d}" for n in range(60)]
    return list(dict.fromkeys(tags))[:500]


def _rows(workspace_id: int, count: int, first_id: int, rng: random.Random, vocab: list[str]):
    from app.services.library.index import camera_key_of, search_text_of

    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # a few tags are common, most are rare
    base = datetime(2025, 1, 1, tzinfo=UTC)
    assets, tags = [], []
    for n in range(count):
        asset_id = first_id + n
        if rng.random() < 0.4:
            name = f"{rng.choice(('DSC', 'IMG', 'DSCF', 'PXL'))}_{rng.randrange(10_000):04d}.jpg"
        else:
            words = rng.sample(SUBJECTS, rng.randint(1, 3))
            name = f"{'-'.join(words)}-{rng.randrange(1000)}.{rng.choice(('jpg', 'png', 'webp'))}"
        alt = (f"A {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} by the {rng.choice(SUBJECTS)}"
               if rng.random() < 0.5 else "")
        ocr = " ".join(rng.choices(OCR_WORDS, k=rng.randint(3, 8))) if rng.random() < 0.2 else ""
        camera = rng.choice(CAMERAS) if rng.random() < 0.8 else ""
        taken = (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(5 * 365 * 86400))
                 if rng.random() < 0.8 else None)
        width, height = rng.choice(SIZES)
        asset_tags = list(dict.fromkeys(rng.choices(vocab, weights=weights, k=rng.randint(0, 6))))
        text = search_text_of(SimpleNamespace(filename=name, alt_text=alt, camera=camera, ocr_text=ocr), asset_tags)
        roll = rng.random()
        origin = "upload" if roll < 0.75 else "generated" if roll < 0.87 else "workflow" if roll < 0.97 else "slide"
        roll = rng.random()
        assets.append({
            "id": asset_id, "workspace_id": workspace_id, "sha256": f"{asset_id:064x}", "filename": name,
            "mime": "image/jpeg", "size_bytes": rng.randrange(50_000, 15_000_000), "width": width, "height": height,
            "storage_key": f"assets/{workspace_id}/{asset_id}.jpg", "thumb_key": "", "error": "", "meta": {},
            "status": "ready" if roll < 0.97 else "processing" if roll < 0.99 else "failed",
            "created_at": base + timedelta(seconds=n * 60), "origin": origin, "source_asset_id": None,
            "alt_text": alt, "taken_at": taken, "camera": camera, "camera_key": camera_key_of(camera),
            "colour": rng.choice(COLOURS), "ocr_text": ocr,
            "search_text": text, "deleted_at": base if rng.random() < 0.01 else None})
        tags += [{"asset_id": asset_id, "tag": t} for t in asset_tags]
    return assets, tags


def populate(engine) -> tuple[int, int]:
    from sqlalchemy import insert, text

    from app.models import User, Workspace

    rng = random.Random(17)
    vocab = _vocabulary(rng)
    with engine.begin() as conn:
        owners = []  # the personal workspace of each of two users: assets belong to workspaces
        for email in ("designer@example.com", "other@example.com"):
            user_id = conn.execute(insert(User).values(email=email, name="", password_hash="x",
                                                       created_at=datetime.now(UTC),
                                                       password_changed_at=datetime.now(UTC))
                                   .returning(User.id)).scalar_one()
            owners.append(conn.execute(insert(Workspace).values(name=email, kind="personal", created_by=user_id,
                                                                created_at=datetime.now(UTC))
                                       .returning(Workspace.id)).scalar_one())
    started = time.perf_counter()
    for owner, count, first in ((owners[0], ASSETS, 1), (owners[1], OTHER_ASSETS, ASSETS + 1)):
        insert_assets(engine, owner, count, first_id=first, rng=rng, vocab=vocab)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"  inserted {ASSETS + OTHER_ASSETS} assets in {time.perf_counter() - started:.1f} s")
    return owners[0], owners[1]


def insert_assets(engine, workspace_id: int, count: int, *, first_id: int = 1, rng: random.Random | None = None,
                  vocab: list[str] | None = None) -> None:
    """Bulk-insert `count` assets of the owner (ids from `first_id`) with their tags (also bench.library_page)."""
    from sqlalchemy import insert

    from app.models import Asset, AssetTag

    rng = rng or random.Random(17)
    assets, tags = _rows(workspace_id, count, first_id, rng, vocab or _vocabulary(rng))
    with engine.begin() as conn:
        for i in range(0, len(assets), 5000):
            conn.execute(insert(Asset), assets[i:i + 5000])
        for i in range(0, len(tags), 20000):
            conn.execute(insert(AssetTag), tags[i:i + 20000])


def _words_sql(dialect: str, words: list[str]) -> tuple[str, dict]:
    if dialect == "postgresql":
        return ("a.search_tsv @@ to_tsquery('simple', :tsq)",
                {"tsq": " & ".join(f"'{w}':*" for w in words)})
    return ("a.id IN (SELECT rowid FROM asset_fts WHERE asset_fts MATCH :m)",
            {"m": " ".join(f'"{w}"*' for w in words)})


def bare_sql(dialect: str, workspace_id: int, spec: dict) -> tuple[str, str, dict]:
    """What a developer would write by hand for the same search: one page and one count, counted up to the
    same cap as search() (COUNT_CAP + 1 rows at most), so both answer the same question."""
    from app.services.library.search import COUNT_CAP

    where, params = ["a.workspace_id = :owner", "a.deleted_at IS NULL"], {"owner": workspace_id}
    if spec.get("q"):
        clause, extra = _words_sql(dialect, spec["q"].lower().split())
        where.append(clause)
        params.update(extra)
    for n, tag in enumerate(spec.get("tags", [])):
        where.append(f"a.id IN (SELECT asset_id FROM asset_tag WHERE tag = :tag{n})")
        params[f"tag{n}"] = tag
    if spec.get("camera"):
        where.append("a.camera_key = :camera")
        params["camera"] = spec["camera"].lower()
    if spec.get("colour"):
        where.append("a.colour = :colour")
        params["colour"] = spec["colour"]
    if spec.get("orientation") == "portrait":
        where.append("a.height > a.width")
    if spec.get("taken_from"):
        where.append("a.taken_at >= :start AND a.taken_at < :end")
        params["start"] = datetime.combine(spec["taken_from"], datetime.min.time(), tzinfo=UTC)
        params["end"] = datetime.combine(spec["taken_to"] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        if dialect == "sqlite":  # how SQLModel's UTCDateTime stores a value there
            params["start"] = params["start"].strftime("%Y-%m-%d %H:%M:%S.%f")
            params["end"] = params["end"].strftime("%Y-%m-%d %H:%M:%S.%f")
    clause = " AND ".join(where)
    page = f"SELECT a.* FROM asset a WHERE {clause} ORDER BY a.created_at DESC, a.id DESC LIMIT 60"
    return page, f"SELECT count(*) FROM (SELECT 1 FROM asset a WHERE {clause} LIMIT {COUNT_CAP + 1}) AS m", params


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(engine, workspace_id: int, runs: int) -> dict:
    from sqlalchemy import text
    from sqlmodel import Session

    from app.services.library.search import SearchQuery, search

    dialect = engine.dialect.name
    per_query = []
    for label, spec in QUERIES:
        query = SearchQuery(**spec)
        page_sql, count_sql, params = bare_sql(dialect, workspace_id, spec)
        ours_t, bare_t = [], []
        for n in range(runs + 2):  # two warm-up rounds
            with Session(engine) as session:
                started = time.perf_counter()
                rows, total = search(session=session, workspace_id=workspace_id, query=query)
                ours = time.perf_counter() - started
            with engine.connect() as conn:
                started = time.perf_counter()
                bare_rows = conn.execute(text(page_sql), params).all()
                bare_total = conn.execute(text(count_sql), params).scalar_one()
                bare = time.perf_counter() - started
            if n == 0 and ([r.id for r in rows], total) != ([r.id for r in bare_rows], bare_total):
                raise AssertionError(f"{label}: search and bare SQL disagree ({total} vs {bare_total})")
            if n >= 2:
                ours_t.append(ours)
                bare_t.append(bare)
        row = {"query": label, "matches": total, "search_p95_ms": round(_p95(ours_t) * 1000, 2),
               "bare_p95_ms": round(_p95(bare_t) * 1000, 2)}
        row["ratio"] = round(row["bare_p95_ms"] / row["search_p95_ms"], 3)
        per_query.append(row)
        print(f"  {label:22} {total:6} matches  search p95 {row['search_p95_ms']:7.2f} ms  "
              f"bare p95 {row['bare_p95_ms']:7.2f} ms  ratio {row['ratio']:.2f}")
    return {"queries": per_query, "worst_ratio": min(r["ratio"] for r in per_query),
            "worst_search_p95_ms": max(r["search_p95_ms"] for r in per_query)}


def plan(engine, workspace_id: int, spec: dict) -> str:
    """The database's plan for a search's count, capped as search() counts (which index serves the words)."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from app.models import Asset
    from app.services.library.search import COUNT_CAP, SearchQuery, conditions

    with Session(engine) as session:
        first = select(Asset.id).where(*conditions(session=session, workspace_id=workspace_id,
                                                   query=SearchQuery(**spec)))
        stmt = select(func.count()).select_from(first.limit(COUNT_CAP + 1).subquery())
        compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[k] for k in compiled.positiontup) if compiled.positional else compiled.params
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        return " | ".join(str(r[-1]).strip() for r in session.connection().exec_driver_sql(
            explain + str(compiled), params))


def _result(name: str, engine, runs: int) -> dict:
    owner, _ = populate(engine)
    word_plan = plan(engine, owner, {"q": "sunset"})
    print(f"  plan of a word search: {word_plan}")
    figures = measure(engine, owner, runs)
    return write_result(name, figures["worst_ratio"], TARGET_RATIO, database=engine.dialect.name, assets=ASSETS,
                        other_owner_assets=OTHER_ASSETS, runs_per_query=runs,
                        worst_search_p95_ms=figures["worst_search_p95_ms"], p95_target_ms=TARGET_P95_MS,
                        p95_passed=figures["worst_search_p95_ms"] <= TARGET_P95_MS, word_plan=word_plan,
                        queries=figures["queries"])


def on_sqlite(runs: int) -> dict:
    from app.db import get_engine

    print("library_search on SQLite")
    with Environment():
        return _result("library_search", get_engine(), runs)


def on_postgres(runs: int) -> dict | None:
    from sqlalchemy import create_engine

    with postgres_database(PG_ADMIN_URL) as url:
        if url is None:
            print("library_search_postgres: PostgreSQL is not reachable on 127.0.0.1:5432, skipped")
            return None
        print("library_search on PostgreSQL")
        engine = create_engine(url)
        try:
            return _result("library_search_postgres", engine, runs)
        finally:
            engine.dispose()


def main() -> list[dict]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = [r for r in (on_sqlite(args.runs), on_postgres(args.runs)) if r is not None]
    print_table(results)
    for r in results:
        print(f"{r['name']}: worst p95 {r['worst_search_p95_ms']} ms (target ≤ {TARGET_P95_MS} ms), "
              f"worst ratio {r['ratio']}")
    return results


if __name__ == "__main__":
    main()
