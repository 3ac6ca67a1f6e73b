"""The JSON depth check: brackets inside strings do not count; 64 levels pass, 65 do not."""

import json

import pytest

from app.api.json_depth import MAX_DEPTH, too_deep


@pytest.mark.parametrize(("body", "deep"), [
    (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, False),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), True),
    (b"[" * 5000, True),
    (json.dumps({"a": [{"b": "[[[[{{{{" * 100}], "c": "\\\"]]]"}).encode(), False),
    (json.dumps(["x\\\"[" * 1000]).encode(), False),
    (b'{"a": 1}', False), (b"", False), (b"12", False),
    (b"[}", True),  # not JSON: refused the same way
])
def test_depth(body, deep):
    assert too_deep(body) is deep
