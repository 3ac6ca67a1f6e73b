"""The library's pure helpers: grid ranges for shift-click, the collections tree as sidebar rows, a card."""

from types import SimpleNamespace

from app.services.library.cards import card_of, flatten_collections, select_range


def test_a_range_runs_either_way_and_falls_back_to_the_target():
    order = ["5", "4", "3", "2", "1"]
    assert select_range(order, "4", "2") == ["4", "3", "2"]
    assert select_range(order, "2", "4") == ["4", "3", "2"]
    assert select_range(order, "9", "3") == ["3"]  # the anchor scrolled away with a new search


def test_the_tree_flattens_children_under_their_parent():
    tree = [{"id": 1, "name": "Clients", "count": 3, "children": [{"id": 3, "name": "Acme", "count": 2}]},
            {"id": 2, "name": "Travel", "count": 0, "children": []}]
    rows = flatten_collections(tree)
    assert [(r["name"], r["depth"], r["parent"], r["count"]) for r in rows] == [
        ("Clients", "0", "", "3"), ("Acme", "1", "1", "2"), ("Travel", "0", "", "0")]


def test_a_poster_card_says_portrait_and_links_to_its_page():
    poster = SimpleNamespace(id=7, filename="poster.png", status="ready", width=900, height=1600, origin="upload",
                             camera="")
    card = card_of(poster)
    assert card["orientation"] == "portrait" and card["href"] == "/assets/7" and card["dims"] == "900×1600"
