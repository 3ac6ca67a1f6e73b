"""Which paths the general API limit counts: the API, not health probes, scrapers or signed webhooks."""

from app.api.guard import is_limited


def test_the_api_is_limited_but_not_probes_or_signed_webhooks():
    assert is_limited("/api/v1/me") and is_limited("/api/v1/billing/checkout")
    assert not is_limited("/api/v1/billing/webhook")  # Stripe retries on 429: a limit would only delay money
    assert not is_limited("/health/ready") and not is_limited("/metrics")
