"""Template library search: `search_templates()` (a page of 50 + the total) against the bare listing query.

One workspace with 5,000 templates (three kinds, 20 categories, 0–5 tags each from ~200, half with an active
version, a latest version per template in draft / in review / approved) and 1,000 of another workspace,
bulk-inserted into a migrated SQLite database. Each search below runs 40 times through the service (the
permission check included) and the bare SQL of the plain library page (the workspace's templates by
`updated_at`, page + count, on the same index) alternating. ratio = bare p95 / search p95 for the worst search
(target ≥ 0.2: a substring match reads every row of the workspace, the bare page reads 50); the worst absolute
search p95 is printed beside it (a quiet machine answers in a few milliseconds; a loaded one scales both sides).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import timedelta

from bench.common import Environment, print_table, write_result

TARGET_RATIO = 0.2
TEMPLATES, OTHER = 5_000, 1_000
SEARCHES = [
    {},
    {"query": "sale"},
    {"query": "onboarding", "kind": "email"},
    {"tag": "summer"},
    {"category": "newsletter", "sort": "name"},
    {"status": "has_draft"},
    {"status": "in_review"},
    {"status": "active", "query": "promo"},
]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def populate(engine, workspace_id: int, other_id: int, user_id: int) -> None:
    from sqlalchemy import insert

    from app.models import Template, TemplateVersion, utcnow

    rng = random.Random(7)
    words = ("sale promo onboarding welcome receipt invoice newsletter launch survey reminder renewal summer "
             "winter autumn spring holiday event webinar digest update").split()
    vocab = [f"{w}{n}" if n else w for w in words for n in range(10)]
    categories = [f"category {n}" for n in range(19)] + ["newsletter"]
    now = utcnow()
    templates, versions = [], []
    for n in range(TEMPLATES + OTHER):
        template_id = n + 1
        kind = ("email", "slide", "image_style")[n % 3]
        status = ("draft", "in_review", "approved", "approved")[rng.randrange(4)]
        templates.append({
            "id": template_id, "workspace_id": workspace_id if n < TEMPLATES else other_id, "kind": kind,
            "name": f"{rng.choice(words).title()} {rng.choice(words)} {n}", "description": " ".join(
                rng.choice(words) for _ in range(12)), "category": rng.choice(categories),
            "tags": rng.sample(vocab, rng.randrange(6)), "thumbnail_key": "", "latest_number": 1,
            "active_version_id": template_id if status == "approved" else None, "created_by": user_id,
            "created_at": now, "updated_at": now - timedelta(minutes=n), "archived_at": None})
        versions.append({"id": template_id, "template_id": template_id, "number": 1, "author_id": user_id,
                         "note": "", "content": {"source": "<mjml></mjml>"}, "content_hash": "", "status": status,
                         "revision": 0, "stage": 0, "workflow_version": 0, "reason": "", "checks": None,
                         "created_at": now, "updated_at": now})
    with engine.begin() as conn:
        conn.execute(insert(Template), templates)
        conn.execute(insert(TemplateVersion), versions)


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with Environment():
        from sqlmodel import col, func, select

        from app.db import get_engine, read_scope, session_scope
        from app.models import Template, User
        from app.services.auth import accounts
        from app.services.templates import library
        from app.services.workspaces.service import acting, create_team

        with session_scope() as session:
            owner = accounts.register_user(session=session, email="owner@example.com", password="bench password 1")
            other = accounts.register_user(session=session, email="other@example.com", password="bench password 2")
            workspace_id = create_team(session=session, user_id=owner.id, name="Studio").id
            other_id = create_team(session=session, user_id=other.id, name="Elsewhere").id
            actor = acting(session=session, user=session.get(User, owner.id), workspace_id=workspace_id)
        populate(get_engine(), workspace_id, other_id, owner.id)
        worst = {"search": 0.0, "bare": 0.0, "which": ""}
        for filters in SEARCHES:
            searched, bare = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                with read_scope() as session:
                    library.search_templates(session=session, actor=actor, **filters)
                searched.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                with read_scope() as session:
                    where = Template.workspace_id == workspace_id
                    session.exec(select(Template).where(where).order_by(col(Template.updated_at).desc())
                                 .limit(50)).all()
                    session.exec(select(func.count()).select_from(Template).where(where)).one()
                bare.append((time.perf_counter() - start) * 1000)
            if _p95(searched) > worst["search"]:
                worst = {"search": _p95(searched), "bare": _p95(bare), "which": json.dumps(filters)}
        result = write_result("templates_search", worst["bare"] / worst["search"], TARGET_RATIO,
                              search_p95_ms=round(worst["search"], 2), bare_p95_ms=round(worst["bare"], 2),
                              worst=worst["which"], templates=TEMPLATES, runs=args.runs)
    print_table([result])
    print(f"templates_search: worst {worst['which']} p95 {worst['search']:.2f} ms; bare page p95 "
          f"{worst['bare']:.2f} ms")
    return result


if __name__ == "__main__":
    main()
