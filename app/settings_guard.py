"""Settings for running behind proxies: client addresses, API limits, network lists, virus scanning.

A mixin of app.settings.Settings (still the one place that reads the environment), kept apart so the
main settings module stays small.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NetworkList = Annotated[list[Network], NoDecode]


def parse_networks(value: object) -> object:
    """A comma-separated CIDR list ("10.0.0.0/8, ::1") into networks; a bare address is a /32 or /128."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        out = []
        for part in value:
            try:
                out.append(ipaddress.ip_network(str(part).strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"{part!r} is not an address or CIDR network") from exc
        return out
    return value


class GuardSettings(BaseSettings):
    # Proxies (CIDR list) whose X-Forwarded-For is believed; empty: the direct peer is the client.
    trusted_proxies: NetworkList = []
    # General API limits ("limits" rate strings, fixed windows): per API token or signed-in session,
    # per address for requests without credentials, and a ceiling per address over everything it sends.
    api_rate_limit: str = "600/minute"
    api_rate_limit_anon: str = "120/minute"
    api_rate_limit_address: str = "3000/minute"
    # Thumbnails a page shows (GET /api/v1/assets|templates/{id}/thumbnail) count per credential here instead:
    # a grid loads 60 per page, so under the general limit ten Assets visits in a minute broke the next grid's
    # pictures. They are small stored files; this still bounds a client that fetches them in a loop.
    api_rate_limit_pictures: str = "6000/minute"
    # Optional network lists: the admin area (/admin pages, /api/v1/admin/*), the whole API, and
    # addresses refused everywhere. Empty: no restriction.
    admin_allow_networks: NetworkList = []
    api_allow_networks: NetworkList = []
    deny_networks: NetworkList = []
    # Security events (refusals, throttles) written to the audit log per address and kind.
    security_audit_limit: str = "10/minute"
    # clamd: tcp://host:3310 or unix:///run/clamav/clamd.ctl; empty: no scanning.
    clamav_url: str = ""
    # clamd unreachable: "closed" refuses uploads (503 scanner_unavailable), "open" stores them flagged.
    clamav_fail_mode: Literal["closed", "open"] = "closed"
    clamav_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("trusted_proxies", "admin_allow_networks", "api_allow_networks", "deny_networks",
                     mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        return parse_networks(value)

    @field_validator("api_rate_limit", "api_rate_limit_anon", "api_rate_limit_address", "api_rate_limit_pictures",
                     "security_audit_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate like '600/minute'") from exc
        return value

    @field_validator("clamav_url")
    @classmethod
    def _check_clamav_url(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.startswith("tcp://") or value.startswith("unix://")):
            raise ValueError("CLAMAV_URL must be tcp://host:port or unix:///path/to/clamd.sock")
        return value
