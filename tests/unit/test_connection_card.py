"""Admin → AI connections: a long name with no space ran past the page and under the Enabled toggle."""

from components.admin_ai.connections import connection_card
from components.layout.text_wrap import WRAP_CLASS
from state.admin_ai import AdminAIState


def nodes(node):
    if isinstance(node, dict):
        yield node
        for child in node.get("children", []):
            yield from nodes(child)


def test_the_connection_name_breaks_inside_the_card_and_the_toggle_keeps_its_room():
    card = list(nodes(connection_card(AdminAIState.connections[0]).render()))
    name = next(n for n in card if any('["name"]' in str(c.get("contents", "")) for c in n.get("children", [])))
    assert f'className:"{WRAP_CLASS}"' in name["props"] and any('"minWidth"] : "0"' in p for p in name["props"])
    toggle = next(n for n in card if n.get("name") == "\"label\"")
    assert any("flexShrink" in p for p in toggle["props"])
