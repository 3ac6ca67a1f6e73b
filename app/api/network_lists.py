"""Optional network lists: DENY_NETWORKS everywhere, API_ALLOW_NETWORKS for /api/, ADMIN_ALLOW_NETWORKS for the
admin area (/admin pages and /api/v1/admin/*). Empty lists restrict nothing."""

from __future__ import annotations

from app.api.client_address import in_networks, parse_address
from app.settings import get_settings

ADMIN_PREFIXES = ("/admin", "/api/v1/admin")


def is_admin_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in ADMIN_PREFIXES)


def refusal(*, address: str, path: str) -> str:
    """Why this address may not reach this path ("denied", "api", "admin"), or "" when it may."""
    settings = get_settings()
    parsed = parse_address(address) if address else None
    if settings.deny_networks and in_networks(parsed, settings.deny_networks):
        return "denied"
    if settings.api_allow_networks and path.startswith("/api/") and not in_networks(parsed,
                                                                                    settings.api_allow_networks):
        return "api"
    if settings.admin_allow_networks and is_admin_path(path) and not in_networks(parsed,
                                                                                 settings.admin_allow_networks):
        return "admin"
    return ""


MESSAGES = {
    "denied": "Requests from your network are refused here.",
    "api": "The API does not accept requests from your network.",
    "admin": "The admin area does not accept requests from your network.",
}
