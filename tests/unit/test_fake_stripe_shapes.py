"""The fake Stripe's wire format agrees with Stripe's: the library's own encoder and signer are the judges."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import stripe
from stripe._encode import _api_encode

from tests.fake_stripe_shapes import parse_form, sign


def test_bracket_syntax_round_trips_what_the_library_sends():
    params = {"mode": "subscription", "line_items": [{"price": "price_1", "quantity": 2}],
              "metadata": {"workspace_id": "3", "kind": "plan"},
              "subscription_data": {"metadata": {"plan_id": "1"}}, "expand": ["subscription", "customer"]}
    encoded = urlencode(list(_api_encode(params)))  # exactly as stripe's requestor encodes a body
    assert parse_form(encoded) == {"mode": "subscription", "line_items": [{"price": "price_1", "quantity": "2"}],
                                   "metadata": {"workspace_id": "3", "kind": "plan"},
                                   "subscription_data": {"metadata": {"plan_id": "1"}},
                                   "expand": ["subscription", "customer"]}


def test_malformed_parameter_names_are_refused():
    with pytest.raises(ValueError):
        parse_form("metadata]x[=1")
    with pytest.raises(ValueError):
        parse_form("a=1&a[b]=2")  # a scalar and a hash under one name


def test_the_signature_is_stripes_scheme():
    payload, secret = '{"id": "evt_1"}', "whsec_test"
    assert sign(payload, secret, 1_700_000_000) == stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=1_700_000_000)
