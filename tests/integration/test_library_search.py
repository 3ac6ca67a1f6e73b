"""Library search on both databases: each filter alone and together, prefix words, accents, sorts, pages,
hostile text, the URL form of a search, the REST list, and other owners' pictures never showing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import ValidationFailed
from app.models import Asset, AssetTag, Collection, CollectionAsset, User
from app.services.assets import service as asset_service
from app.services.library import index
from app.services.library.search import SearchQuery, count_matches, matching_ids, search
from tests.integration.test_api_auth import login, register

D = datetime
# key: filename, tags, alt text, OCR words, camera, taken, colour, width, height, size, origin, status
ADA = {
    "beach1": ("beach-sunset-01.jpg", "beach sunset", "Sunset over the beach", "", "Canon EOS R5",
               D(2022, 7, 14, 18, 0), "orange", 6000, 4000, 8_000_000, "upload", "ready"),
    "beach2": ("beach-sunset-02.jpg", "beach sunset", "", "", "Canon EOS R5",
               D(2022, 7, 15, 23, 30), "orange", 4000, 6000, 7_500_000, "upload", "ready"),
    "dsc0": ("DSC_4100.jpg", "", "", "", "NIKON D850", D(2021, 3, 2, 9), "blue", 8256, 5504, 12_000_000,
             "upload", "ready"),
    "dsc1": ("DSC_4101.jpg", "city", "", "", "NIKON D850", D(2021, 3, 3, 9), "gray", 5504, 8256, 11_000_000,
             "upload", "ready"),
    "menu": ("café-menu.png", "food", "Chalkboard menu at the café", "Menu Croissant Espresso", "", None,
             "black", 1200, 1200, 900_000, "upload", "ready"),
    "cafe": ("cafe-exterior.jpg", "food city", "Cafe front on a rainy day", "", "Apple iPhone 15 Pro",
             D(2024, 11, 30, 12), "gray", 3024, 4032, 3_000_000, "upload", "ready"),
    "logo": ("logo-final.png", "brand", "", "", "", None, "red", 1024, 1024, 200_000, "generated", "ready"),
    "logo2": ("logo-final-resized.png", "brand", "", "", "", None, "red", 512, 512, 80_000, "workflow", "ready"),
    "poster": ("poster-sale.png", "brand poster", "", "SALE 50% OFF", "", None, "yellow", 1080, 1350, 1_500_000,
               "generated", "ready"),
    "poster2": ("poster-sale-1080.webp", "poster", "", "", "", None, "yellow", 1080, 1350, 400_000, "workflow",
                "ready"),
    "slide": ("slide-3-chart.png", "", "Quarterly chart", "", "", None, "white", 1920, 1080, 300_000, "slide",
              "ready"),
    "lake": ("Mountain lake.jpg", "nature lake", "Still lake below the mountains", "", "FUJIFILM X-T4",
             D(2020, 8, 1, 7), "blue", 6240, 4160, 9_000_000, "upload", "ready"),
    "forest": ("forest-path.jpg", "nature forest", "", "", "FUJIFILM X-T4", D(2020, 8, 2, 7), "green", 4160, 6240,
               9_500_000, "upload", "ready"),
    "zebra": ("zebra.jpg", "animal", "", "", "Sony ILCE-7M3", D(2023, 1, 15, 10), "white", 6000, 4000, 6_000_000,
              "upload", "processing"),
    "broken": ("broken.jpg", "", "", "", "", None, "", 100, 100, 1_000, "upload", "failed"),
    "gone": ("deleted-beach.jpg", "beach", "", "", "Canon EOS R5", D(2022, 7, 14, 19), "orange", 6000, 4000,
             8_100_000, "upload", "ready"),
    "aard": ("Aardvark.jpg", "animal", "", "", "Sony ILCE-7M3", D(2023, 1, 16, 10), "brown", 6000, 4000, 6_100_000,
             "upload", "ready"),
    "tokyo": ("東京タワー.jpg", "city travel", "Tokyo tower at night", "", "Canon EOS R5", D(2019, 12, 31, 23, 59),
              "red", 4000, 6000, 7_000_000, "upload", "ready"),
    "img": ("IMG_0001.jpg", "", "", "", "Apple iPhone 15 Pro", D(2024, 1, 1, 0, 0), "green", 4032, 3024, 2_900_000,
            "upload", "ready"),
    "sunfl": ("sunflower-field.jpg", "nature summer", "Sunflowers in July", "", "Canon EOS 5D", D(2022, 7, 20, 12),
              "yellow", 5472, 3648, 5_000_000, "upload", "ready"),
}
TEXTURES = [f"tex{i:02d}" for i in range(1, 17)]
for _i, _key in enumerate(TEXTURES, start=1):
    ADA[_key] = (f"texture-{_i:02d}.png", "texture", "", "", "", None, "multicolor", 800, 600, 100_000 + _i,
                 "upload", "ready")
BOB = {
    "bob1": ("beach-party.jpg", "beach", "", "", "Canon EOS R5", D(2022, 7, 14, 12), "orange", 6000, 4000,
             5_000_000, "upload", "ready"),
    "bob2": ("DSC_4100.jpg", "", "", "", "NIKON D850", D(2021, 3, 2, 9), "blue", 8256, 5504, 12_000_000, "upload",
             "ready"),
    "bob3": ("logo-final.png", "brand", "", "", "", None, "red", 1024, 1024, 200_000, "generated", "ready"),
}
ORDER = list(ADA)  # creation order: the default sort (added, newest first) is the reverse
LIVE = [k for k in ORDER if k != "gone"]
LANDSCAPE = ["beach1", "dsc0", "slide", "lake", "zebra", "aard", "img", "sunfl", *TEXTURES]


def _created(key: str) -> datetime:
    """The first twenty on 1–20 June 2025 at 23:00 (so an inclusive end day is tested), textures in July."""
    n = ORDER.index(key) if key in ADA else 0
    return datetime(2025, 6, 1, 23, tzinfo=UTC) + timedelta(days=n) if n < 20 else \
        datetime(2025, 7, 1, tzinfo=UTC) + timedelta(minutes=n)


def _add(session, workspace_id: int, key: str, spec: tuple) -> int:
    name, tags, alt, ocr, camera, taken, colour, width, height, size, origin, status = spec
    asset = Asset(workspace_id=workspace_id, sha256=f"{workspace_id}-{key}".ljust(64, "0"), filename=name,
                  mime="image/jpeg",
                  size_bytes=size, width=width, height=height, storage_key=f"k/{workspace_id}/{key}", status=status,
                  origin=origin, alt_text=alt, ocr_text=ocr, camera=camera, colour=colour,
                  taken_at=taken.replace(tzinfo=UTC) if taken else None, created_at=_created(key),
                  deleted_at=datetime(2026, 1, 1, tzinfo=UTC) if key == "gone" else None)
    session.add(asset)
    session.flush()
    for tag in tags.split():
        session.add(AssetTag(asset_id=asset.id, tag=tag))
    session.flush()
    index.refresh(session, asset)
    return asset.id


@pytest.fixture
def lib(api, any_db):
    """Ada's library (signed in on `api`), Bob's three pictures, a collection each (by personal workspace)."""
    register(api, email="bob@example.com", name="Bob")
    register(api)
    assert login(api).status_code == 200
    with session_scope() as session:
        ada = session.exec(select(User.personal_workspace_id).where(User.email == "ada@example.com")).one()
        bob = session.exec(select(User.personal_workspace_id).where(User.email == "bob@example.com")).one()
        ids = {k: _add(session, ada, k, spec) for k, spec in ADA.items()}
        ids.update({k: _add(session, bob, k, spec) for k, spec in BOB.items()})
        summer, bobs = Collection(workspace_id=ada, name="Summer"), Collection(workspace_id=bob, name="B")
        session.add_all([summer, bobs])
        session.flush()
        for coll, key in ((summer, "beach1"), (summer, "sunfl"), (summer, "gone"), (bobs, "bob1")):
            session.add(CollectionAsset(collection_id=coll.id, asset_id=ids[key]))
        collections = {"summer": summer.id, "bob": bobs.id}
    return {"api": api, "ada": ada, "bob": bob, "ids": ids, "collections": collections}


def find(lib, owner: str = "ada", limit: int = 100, offset: int = 0, **fields) -> list[str]:
    """The keys of what a search finds, in its order."""
    by_id = {v: k for k, v in lib["ids"].items()}
    with session_scope() as session:
        rows, total = search(session=session, workspace_id=lib[owner], query=SearchQuery(**fields), limit=limit,
                             offset=offset)
    found = [by_id[a.id] for a in rows]
    if offset == 0 and len(found) < limit:
        assert total == len(found)
    if offset == 0:  # a small first page: on SQLite, from ten matches on, read by walking the created_at index
        with session_scope() as session:
            first, first_total = search(session=session, workspace_id=lib[owner], query=SearchQuery(**fields), limit=2)
        assert ([by_id[a.id] for a in first], first_total) == (found[:2], total), fields
    return found


def newest_first(*keys: str) -> list[str]:
    return sorted(keys, key=ORDER.index, reverse=True)


FILTERS = [
    ({}, LIVE),
    ({"q": "beach"}, ["beach1", "beach2"]),
    ({"q": "sun"}, ["beach1", "beach2", "sunfl"]),  # a prefix: sunset, sunflower
    ({"q": "Sunset BEACH"}, ["beach1", "beach2"]),
    ({"q": "sunset 02"}, ["beach2"]),
    ({"q": "DSC_4100"}, ["dsc0"]),
    ({"q": "dsc"}, ["dsc0", "dsc1"]),
    ({"q": "jpg"}, ["beach1", "beach2", "dsc0", "dsc1", "cafe", "lake", "forest", "zebra", "broken", "aard",
                    "tokyo", "img", "sunfl"]),
    ({"q": "croissant"}, ["menu"]),  # OCR words
    ({"q": "sale"}, ["poster", "poster2"]),
    ({"q": "tokyo"}, ["tokyo"]),  # alt text
    ({"q": "東京"}, ["tokyo"]),
    ({"q": "canon"}, ["beach1", "beach2", "tokyo", "sunfl"]),  # camera
    ({"q": "nature"}, ["lake", "forest", "sunfl"]),  # tags
    ({"q": "mountain lake"}, ["lake"]),
    ({"q": "xyzzy"}, []),
    ({"tags": ["beach"]}, ["beach1", "beach2"]),
    ({"tags": ["Nature "]}, ["lake", "forest", "sunfl"]),
    ({"tags": ["nature", "lake"]}, ["lake"]),
    ({"tags": ["nature", "animal"]}, []),
    ({"origin": ["generated"]}, ["logo", "poster"]),
    ({"origin": ["workflow", "slide"]}, ["logo2", "poster2", "slide"]),
    ({"include_derived": False}, [k for k in LIVE if k not in ("logo2", "poster2")]),
    ({"camera": "Canon EOS R5"}, ["beach1", "beach2", "tokyo"]),  # a whole name, as the camera menu offers
    ({"camera": " canon  eos r5"}, ["beach1", "beach2", "tokyo"]),
    ({"camera": "canon"}, []),  # a part of a name is the free text's job (q=canon above)
    ({"camera": "%"}, []),
    ({"camera": "_"}, []),
    ({"colour": "Blue"}, ["dsc0", "lake"]),
    ({"colour": "yellow"}, ["poster", "poster2", "sunfl"]),
    ({"orientation": "portrait"}, ["beach2", "dsc1", "cafe", "poster", "poster2", "forest", "tokyo"]),
    ({"orientation": "square"}, ["menu", "logo", "logo2", "broken"]),
    ({"orientation": "landscape"}, LANDSCAPE),
    ({"min_width": 6000}, ["beach1", "dsc0", "lake", "zebra", "aard"]),
    ({"min_height": 6000}, ["beach2", "dsc1", "forest", "tokyo"]),
    ({"taken_from": date(2022, 7, 14), "taken_to": date(2022, 7, 15)}, ["beach1", "beach2"]),
    ({"taken_from": date(2024, 1, 1)}, ["cafe", "img"]),
    ({"taken_to": date(2019, 12, 31)}, ["tokyo"]),
    ({"added_from": date(2025, 6, 5), "added_to": date(2025, 6, 6)}, ["menu", "cafe"]),
    ({"status": "processing"}, ["zebra"]),
    ({"status": "failed"}, ["broken"]),
    ({"status": "ready"}, [k for k in LIVE if k not in ("zebra", "broken")]),
]


def _check(lib, cases, order=newest_first) -> None:
    """Every case, then one failure listing each search that found something else."""
    wrong = [(fields, found, order(*expected)) for fields, expected in cases
             if (found := find(lib, **fields)) != order(*expected)]
    assert not wrong, "\n".join(f"{f}: found {got}, expected {want}" for f, got, want in wrong)


def test_each_filter_alone(lib):
    _check(lib, FILTERS)


COMBINED = [
    ({"tags": ["beach"], "q": "02"}, ["beach2"]),
    ({"q": "nature", "colour": "green"}, ["forest"]),
    ({"q": "canon", "taken_from": date(2022, 1, 1), "taken_to": date(2022, 12, 31)}, ["beach1", "beach2", "sunfl"]),
    ({"orientation": "landscape", "colour": "blue"}, ["dsc0", "lake"]),
    ({"camera": "Apple iPhone 15 Pro", "orientation": "portrait"}, ["cafe"]),
    ({"tags": ["brand"], "include_derived": False}, ["logo", "poster"]),
    ({"q": "logo", "origin": ["workflow"]}, ["logo2"]),
    ({"status": "ready", "min_width": 6000, "camera": "sony ilce-7m3"}, ["aard"]),
]


def test_filters_combine(lib):
    _check(lib, COMBINED)


def test_a_collection_holds_only_its_live_pictures_and_only_its_owners(lib):
    summer, bobs = lib["collections"]["summer"], lib["collections"]["bob"]
    assert find(lib, collection_id=summer) == ["sunfl", "beach1"]
    assert find(lib, collection_id=summer, q="sunset") == ["beach1"]
    assert find(lib, collection_id=bobs) == []
    assert find(lib, "bob", collection_id=bobs) == ["bob1"]


def test_accents_do_not_matter_either_way(lib):
    assert find(lib, q="café") == ["cafe", "menu"]
    assert find(lib, q="cafe") == ["cafe", "menu"]
    assert find(lib, q="CAFÉ menu") == ["menu"]


SORTED = [
    ({"tags": ["nature"], "sort": "name", "order": "asc"}, ["forest", "lake", "sunfl"]),  # "Mountain" by m
    ({"tags": ["nature"], "sort": "name"}, ["sunfl", "lake", "forest"]),
    ({"tags": ["animal"], "sort": "name", "order": "asc"}, ["aard", "zebra"]),
    ({"q": "canon", "sort": "taken"}, ["sunfl", "beach2", "beach1", "tokyo"]),
    ({"q": "canon", "sort": "taken", "order": "asc"}, ["tokyo", "beach1", "beach2", "sunfl"]),
    ({"tags": ["food"], "sort": "taken", "order": "asc"}, ["cafe", "menu"]),  # undated last both ways
    ({"tags": ["food"], "sort": "taken", "order": "desc"}, ["cafe", "menu"]),
    ({"tags": ["brand"], "sort": "size", "order": "asc"}, ["logo2", "logo", "poster"]),
    ({"tags": ["brand"], "sort": "size"}, ["poster", "logo", "logo2"]),
    ({"tags": ["beach"], "order": "asc"}, ["beach1", "beach2"]),
]


def test_sort_orders(lib):
    _check(lib, SORTED, order=lambda *keys: list(keys))


def test_pages_and_the_total(lib):
    with session_scope() as session:
        rows, total = search(session=session, workspace_id=lib["ada"], query=SearchQuery(), limit=10, offset=30)
        ids = matching_ids(session=session, workspace_id=lib["ada"], query=SearchQuery(), cap=5)
        everything = matching_ids(session=session, workspace_id=lib["ada"], query=SearchQuery(q="texture"))
        none, none_total = search(session=session, workspace_id=lib["ada"], query=SearchQuery(), offset=500)
    assert total == 35 == len(LIVE)
    assert [a.id for a in rows] == [lib["ids"][k] for k in ("menu", "dsc1", "dsc0", "beach2", "beach1")]
    assert ids == [lib["ids"][k] for k in ("tex16", "tex15", "tex14", "tex13", "tex12")]
    assert everything == [lib["ids"][k] for k in reversed(TEXTURES)]
    assert (none, none_total) == ([], 35)
    pages = [find(lib, limit=8, offset=n) for n in range(0, 40, 8)]
    assert [k for page in pages for k in page] == newest_first(*LIVE)


def test_the_count_stops_at_its_cap_while_pages_and_select_all_go_on(lib, monkeypatch):
    from app.api import routes_assets
    from app.services.library import cards as library_cards
    from app.services.library import search as search_module
    from app.services.library.cards import count_label

    for module in (search_module, routes_assets, library_cards):
        monkeypatch.setattr(module, "COUNT_CAP", 10)
    with session_scope() as session:
        first, total = search(session=session, workspace_id=lib["ada"], query=SearchQuery(), limit=5)
        late, late_total = search(session=session, workspace_id=lib["ada"], query=SearchQuery(), limit=10, offset=30)
        ids = matching_ids(session=session, workspace_id=lib["ada"], query=SearchQuery())
    assert (total, late_total, search_module.total_capped(total), count_label(total)) == (11, 11, True, "10+")
    assert [a.id for a in first] == [lib["ids"][k] for k in newest_first(*LIVE)[:5]]
    assert [a.id for a in late] == [lib["ids"][k] for k in newest_first(*LIVE)[30:]]  # offset past the cap
    assert len(ids) == len(LIVE) == 35  # "select all matching" takes every match, not the count
    body = lib["api"].get("/api/v1/assets", params={"limit": 5}).json()
    assert (body["total"], body["total_capped"], len(body["assets"])) == (10, True, 5)
    body = lib["api"].get("/api/v1/assets", params={"tag": "beach"}).json()
    assert (body["total"], body["total_capped"], count_label(2)) == (2, False, "2")


def test_count_matches_counts_as_search_does(lib):
    # The Assets page's library size and processing badge take this one statement instead of a search.
    with session_scope() as session:
        for fields, expected in [*FILTERS, *COMBINED, ({}, LIVE)]:
            query = SearchQuery(**fields)
            _, total = search(session=session, workspace_id=lib["ada"], query=query, limit=1)
            counted = count_matches(session=session, workspace_id=lib["ada"], query=query)
            assert counted == total == len(expected), fields


def test_only_a_query_that_narrows_nothing_is_the_whole_library():
    assert SearchQuery().is_everything() and SearchQuery(sort="name", order="asc").is_everything()
    narrowing = [{"q": "a"}, {"tags": ["x"]}, {"collection_id": 1}, {"origin": ["upload"]}, {"include_derived": False},
                 {"camera": "x"}, {"colour": "red"}, {"orientation": "square"}, {"min_width": 1}, {"min_height": 1},
                 {"taken_from": date(2020, 1, 1)}, {"taken_to": date(2020, 1, 1)}, {"added_from": date(2020, 1, 1)},
                 {"added_to": date(2020, 1, 1)}, {"status": "ready"}]
    assert {name for fields in narrowing for name in fields} == set(SearchQuery.model_fields) - {"sort", "order"}
    assert not any(SearchQuery(**fields).is_everything() for fields in narrowing)


def test_another_owners_pictures_never_appear(lib):
    bobs = {lib["ids"][k] for k in BOB}
    for fields in ({}, {"q": "beach"}, {"q": "dsc 4100"}, {"tags": ["beach"]}, {"colour": "orange"},
                   {"camera": "Canon EOS R5"}, {"origin": ["generated"]}):
        with session_scope() as session:
            ids = matching_ids(session=session, workspace_id=lib["ada"], query=SearchQuery(**fields))
        assert ids and not bobs & set(ids), fields
    assert find(lib, "bob", q="beach") == ["bob1"]
    assert find(lib, "bob") == ["bob3", "bob2", "bob1"]


def test_more_than_32_words_use_the_first_32(lib):
    assert find(lib, q=" ".join(["beach"] * 32 + ["zzzz"])) == ["beach2", "beach1"]
    assert find(lib, q=" ".join(["beach"] * 31 + ["zzzz"])) == []


OPERATORS = [
    ("beach*", ["beach1", "beach2"]),
    ("-beach", ["beach1", "beach2"]),
    ("(beach", ["beach1", "beach2"]),
    ('"beach', ["beach1", "beach2"]),
    ("^beach", ["beach1", "beach2"]),
    ("search_text:beach", []),  # the column name is just another word
    ("beach:sunset", ["beach1", "beach2"]),
    ("sunset OR zebra", []),  # OR is a word, not an operator
    ("NOT beach", []),
    ("NEAR(beach sunset)", []),
    ("bea\x00ch", ["beach1", "beach2"]),
    ("🏖️ beach 😀", ["beach1", "beach2"]),
    ("*", LIVE),  # no word at all: the whole library
]


def test_operators_are_words(lib):
    _check(lib, [({"q": q}, expected) for q, expected in OPERATORS])


HOSTILE = ['"', "'", "*", '""', "''", "AND", "OR", "NOT", "NEAR", "a AND b", "beach OR", "NEAR(a b, 2)", "^", ":",
           "-", "()", "(", ")", "a:*", "x' & 'y", "'':*", "\\", "%", "_", "😀", "🏖️", "\x00", "a\x00b", "\u202e",
           "' OR 1=1 --", "'; DROP TABLE asset; --", "ℌ𝔢𝔩𝔩𝔬", "²", "a" * 2000, "a" * 10_000, "beach " * 2000,
           "{" * 100, "\ufffd", "\t\n\r"]


def test_hostile_text_gives_results_or_a_clear_422(lib):
    api, bobs = lib["api"], {lib["ids"][k] for k in BOB}
    for value in HOSTILE:
        for params in [{name: value} for name in ("q", "tag", "camera", "colour", "origin", "sort", "orientation",
                                                  "min_width", "taken_from", "collection")] + [
                [("q", value), ("tag", value), ("camera", value)]]:
            response = api.get("/api/v1/assets", params=params)
            assert response.status_code in (200, 422), (params, response.text)
            if response.status_code == 422:
                assert response.json()["error"]["code"] == "invalid_search", response.text
            else:
                assert not bobs & {a["id"] for a in response.json()["assets"]}
        if len(value) <= 2000:  # the service itself, without the URL parsing
            with session_scope() as session:
                search(session=session, workspace_id=lib["ada"], query=SearchQuery(q=value))


def test_over_long_text_is_a_422(lib):
    response = lib["api"].get("/api/v1/assets", params={"q": "a" * 10_000})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_search"
    assert lib["api"].get("/api/v1/assets", params={"tag": ["t"] * 21}).status_code == 422


def test_the_url_form_round_trips():
    full = SearchQuery(q="beach sunset", tags=["beach", "summer"], collection_id=7, origin=["upload", "generated"],
                       include_derived=False, camera="Canon EOS", colour="blue", orientation="portrait",
                       min_width=1000, min_height=800, taken_from=date(2022, 1, 1), taken_to=date(2022, 12, 31),
                       added_from=date(2025, 6, 1), added_to=date(2025, 6, 30), status="ready", sort="taken",
                       order="asc")
    params = full.to_params()
    assert params == {"q": "beach sunset", "tag": "beach,summer", "collection": "7", "origin": "upload,generated",
                      "include_derived": "false", "camera": "Canon EOS", "colour": "blue",
                      "orientation": "portrait", "min_width": "1000", "min_height": "800",
                      "taken_from": "2022-01-01", "taken_to": "2022-12-31", "added_from": "2025-06-01",
                      "added_to": "2025-06-30", "status": "ready", "sort": "taken", "order": "asc"}
    assert SearchQuery.from_params(params) == full
    assert SearchQuery().to_params() == {}
    assert SearchQuery.from_params({}) == SearchQuery()
    assert SearchQuery.from_params({"tag": ["Beach", "summer,beach"], "limit": "5"}).tags == ["beach", "summer"]
    assert SearchQuery.from_params({"q": "", "sort": "", "collection": ""}) == SearchQuery()


@pytest.mark.parametrize(("params", "code"), [
    ({"sort": "bogus"}, "invalid_search"), ({"order": "up"}, "invalid_search"),
    ({"origin": "alien"}, "invalid_search"), ({"orientation": "round"}, "invalid_search"),
    ({"min_width": "abc"}, "invalid_search"), ({"min_width": "-1"}, "invalid_search"),
    ({"taken_from": "2022-13-01"}, "invalid_search"), ({"collection": "x"}, "invalid_search"),
    ({"include_derived": "perhaps"}, "invalid_search"), ({"status": "weird"}, "invalid_status"),
    ({"camera": "c" * 121}, "invalid_search"),
])
def test_bad_values_are_a_422(params, code):
    with pytest.raises(ValidationFailed) as caught:
        SearchQuery.from_params(params)
    assert (caught.value.status, caught.value.code) == (422, code)


def test_the_rest_list_searches_the_same_way(lib):
    api, ids = lib["api"], lib["ids"]
    response = api.get("/api/v1/assets", params=[("q", "sun"), ("tag", "beach"), ("limit", "1")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [a["id"] for a in body["assets"]] == [ids["beach2"]]
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 0)
    assert body["query"] == {"q": "sun", "tag": "beach"}
    everything = api.get("/api/v1/assets", params={"q": "sun", "sort": "name", "order": "asc"}).json()
    assert [a["id"] for a in everything["assets"]] == [ids[k] for k in ("beach1", "beach2", "sunfl")]
    with_origin = api.get("/api/v1/assets", params=[("origin", "workflow"), ("origin", "slide"),
                                                    ("include_derived", "true")]).json()
    assert {a["id"] for a in with_origin["assets"]} == {ids["logo2"], ids["poster2"], ids["slide"]}
    assert with_origin["query"] == {"origin": "workflow,slide"}
    dated = api.get("/api/v1/assets", params={"taken_from": "2022-07-14", "taken_to": "2022-07-15",
                                              "colour": "ORANGE", "min_width": "4000"}).json()
    assert [a["id"] for a in dated["assets"]] == [ids["beach2"], ids["beach1"]]


def test_list_assets_goes_through_search_and_hides_deleted(lib):
    with session_scope() as session:
        rows, total = asset_service.list_assets(session=session, workspace_id=lib["ada"], query="beach")
        ready, ready_total = asset_service.list_assets(session=session, workspace_id=lib["ada"], status="ready",
                                                       limit=1)
    assert [a.id for a in rows] == [lib["ids"]["beach2"], lib["ids"]["beach1"]] and total == 2
    assert ready_total == 33 and [a.id for a in ready] == [lib["ids"]["tex16"]]


def test_free_text_goes_through_the_full_text_index(lib, any_db):
    from sqlalchemy import func as sql_func
    from sqlalchemy import text

    from app.services.library.search import _words_condition, conditions

    with session_scope() as session:
        conds = conditions(session=session, workspace_id=lib["ada"], query=SearchQuery(q="sunset bea"))
        if any_db == "postgres":  # the words alone: on 40 rows the owner index would serve the rest
            conds = [_words_condition(session, ["sunset", "bea"])]
        stmt = select(sql_func.count()).select_from(Asset).where(*conds)
        compiled = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
        if any_db == "postgres":
            session.execute(text("SET LOCAL enable_seqscan = off"))  # 40 rows: otherwise a scan is cheaper
        params = (tuple(compiled.params[k] for k in compiled.positiontup) if compiled.positional
                  else compiled.params)
        plan = " ".join(str(r[-1]) for r in session.connection().exec_driver_sql(
            f"EXPLAIN {'QUERY PLAN ' if any_db == 'sqlite' else ''}{compiled}", params))
    assert ("ix_asset_search_tsv" if any_db == "postgres" else "asset_fts VIRTUAL TABLE INDEX") in plan, plan
