"""Reflex configuration, read from app.settings."""

import reflex as rx

from app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="app",
    frontend_port=settings.port,
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
