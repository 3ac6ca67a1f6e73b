"""Reflex configuration, read from app.settings."""

import sys

import reflex as rx

from app.settings import get_settings

settings = get_settings()
# `reflex run --env prod --backend-only` serves the API and the websocket for a proxy that serves the exported
# frontend itself (README: Scale-out); Reflex refuses a frontend port in that mode.
backend_only = "--backend-only" in sys.argv

config = rx.Config(
    app_name="app",
    frontend_port=None if backend_only else settings.port,
    backend_port=settings.port,
    # State lives in Redis (its own DB number), so any number of backend workers can serve.
    redis_url=settings.redis_db_url(1) if settings.redis_url else None,
    # An explicit list: "*" with credentials would allow cross-site websocket hijacking.
    cors_allowed_origins=settings.allowed_origins,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(
        theme=rx.theme(accent_color="violet", gray_color="slate", radius="large"),
    )],
    # Every page but sign-in is private: no sitemap to publish.
    disable_plugins=[rx.plugins.SitemapPlugin],
)
