"""The client address walk: X-Forwarded-For believed only through trusted proxies, right to left."""

import ipaddress

import pytest

from app.api.client_address import client_address, parse_address
from app.settings_guard import parse_networks

PROXIES = parse_networks("10.0.0.0/8, 192.168.1.1, fd00::/8")


def walk(peer, *forwarded, trusted=PROXIES):
    return client_address(peer=peer, forwarded=list(forwarded), trusted=trusted)


def test_without_trusted_proxies_a_spoofed_header_is_ignored():
    assert walk("203.0.113.9", "1.2.3.4", trusted=[]) == "203.0.113.9"
    assert walk("10.0.0.5", "1.2.3.4", trusted=[]) == "10.0.0.5"


def test_an_untrusted_peer_cannot_claim_another_address():
    assert walk("203.0.113.9", "10.0.0.7, 198.51.100.1") == "203.0.113.9"


def test_a_trusted_proxy_forwards_its_client():
    assert walk("10.0.0.5", "198.51.100.7") == "198.51.100.7"


def test_the_walk_passes_trusted_hops_and_stops_at_the_first_untrusted_one():
    # The client wrote "6.6.6.6" itself; its real address is what the first proxy saw.
    assert walk("10.0.0.5", "6.6.6.6, 198.51.100.7, 192.168.1.1, 10.2.3.4") == "198.51.100.7"


def test_several_header_lines_are_one_list():
    assert walk("10.0.0.5", "6.6.6.6", "198.51.100.7, 10.9.9.9") == "198.51.100.7"


def test_all_hops_trusted_gives_the_leftmost():
    assert walk("10.0.0.5", "10.1.1.1, 10.2.2.2") == "10.1.1.1"


def test_a_trusted_proxy_with_an_empty_header_is_the_client():
    assert walk("10.0.0.5") == "10.0.0.5"
    assert walk("10.0.0.5", "") == "10.0.0.5"


def test_garbage_is_never_believed():
    assert walk("10.0.0.5", "198.51.100.7, not-an-ip, 10.1.1.1") == "10.1.1.1"
    assert walk("10.0.0.5", "<script>") == "10.0.0.5"


def test_ipv6_chains_and_forms():
    assert walk("fd00::1", "2001:db8::42") == "2001:db8::42"
    assert walk("fd00::1", "[2001:db8::42]:4711, fd00::2") == "2001:db8::42"
    assert walk("2001:db8::99", "2001:db8::42") == "2001:db8::99"  # untrusted v6 peer
    # An IPv4 proxy seen through a dual-stack socket is still the trusted IPv4 proxy.
    assert walk("::ffff:10.0.0.5", "198.51.100.7:5555") == "198.51.100.7"


def test_parse_address_forms():
    assert parse_address("1.2.3.4:80") == ipaddress.ip_address("1.2.3.4")
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_address('"[::1]"') == ipaddress.ip_address("::1")
    assert parse_address("unknown") is None


def test_bad_networks_are_refused_with_the_value():
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        parse_networks("10.0.0.0/33")


def test_settings_read_the_lists(monkeypatch):
    from app.settings import Settings

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,::1")
    monkeypatch.setenv("DENY_NETWORKS", "203.0.113.0/24")
    settings = Settings()
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert [str(n) for n in settings.deny_networks] == ["203.0.113.0/24"]
    monkeypatch.setenv("API_RATE_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"API_RATE_LIMIT|api_rate_limit"):
        Settings()
    monkeypatch.delenv("API_RATE_LIMIT")
    monkeypatch.setenv("CLAMAV_URL", "http://clamav:3310")
    with pytest.raises(ValueError, match=r"tcp://host:port"):
        Settings()
    monkeypatch.setenv("CLAMAV_URL", "unix:///run/clamav/clamd.ctl")
    assert Settings().clamav_url == "unix:///run/clamav/clamd.ctl" and Settings().clamav_fail_mode == "closed"


def test_page_events_use_the_same_rule(monkeypatch):
    """A page event's address: the websocket's peer and headers, walked like a REST request."""
    from reflex.istate.data import RouterData

    from app.settings import get_settings
    from state.session import client_ip

    def state_from(peer, forwarded):
        router = RouterData.from_router_data({"sid": "s", "headers": {"x-forwarded-for": forwarded},
                                              "ip": peer, "pathname": "/", "query": {}})

        class Holder:
            pass

        holder = Holder()
        holder.router = router
        return holder

    monkeypatch.setenv("TRUSTED_PROXIES", "")
    get_settings.cache_clear()
    assert client_ip(state_from("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    get_settings.cache_clear()
    assert client_ip(state_from("10.0.0.5", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    get_settings.cache_clear()
