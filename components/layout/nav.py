"""Sidebar navigation: the capabilities, account and admin links."""

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink

from app import routes
from state.session import SessionState

# The capabilities Atelier is growing into; each becomes a link when its page ships.
CAPABILITIES: list[tuple[str, str]] = []

ADMIN_LINKS = [
    ("Users", "users", routes.ADMIN_USERS),
    ("Workspaces", "building-2", routes.ADMIN_WORKSPACES),
    ("Billing", "receipt", routes.ADMIN_BILLING),
    ("Jobs", "list-checks", routes.ADMIN_JOBS),
    ("Audit log", "scroll-text", routes.ADMIN_AUDIT),
    ("Outbox", "mail", routes.ADMIN_OUTBOX),
    ("AI connections", "plug", routes.ADMIN_AI),
    ("Styles", "palette", routes.ADMIN_STYLES),
    ("Moderation", "shield-check", routes.ADMIN_MODERATION),
    ("System health", "activity", routes.ADMIN_HEALTH),
]


# The links' look as one stylesheet (in the page head, app/app.py), as the library tiles do: each link was a
# Radix Link and a Radix stack with conditional style props — emotion classes computed per link on every render,
# ~20 of them on every page (bisecting the Assets page's first render: the sidebar was a third of it).
NAV_CSS = """
.nav-link { display: flex; align-items: center; gap: var(--space-3); width: 100%; padding: 8px 12px;
 border-radius: 8px; color: var(--gray-11); text-decoration: none; font-size: var(--font-size-2);
 font-weight: var(--font-weight-medium); line-height: var(--line-height-2); letter-spacing: var(--letter-spacing-2); }
.nav-link:hover { background: var(--gray-3); color: var(--gray-12); }
.nav-link[aria-current="page"] { color: var(--violet-11); background: var(--violet-3); }
.nav-link svg { flex-shrink: 0; }
"""


def nav_style() -> rx.Component:
    return rx.el.style(NAV_CSS)


def nav_link(label: str, icon: str, href: str) -> rx.Component:
    path = rx.State.router.url.path
    # A full page load arrives with a trailing slash (/settings/), client-side navigation without.
    active = (path == href) | (path == href + "/")
    return ReactRouterLink.create(rx.icon(icon, size=18), rx.el.span(label), to=href, class_name="nav-link",
                                  aria_current=rx.cond(active, "page", "false"))


def soon_item(label: str, icon: str) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=18), rx.text(label, size="2"), rx.spacer(),
        rx.badge("soon", variant="soft", color_scheme="gray", size="1"),
        align="center", spacing="3", width="100%", padding_x="12px", padding_y="8px",
        color=rx.color("gray", 9), aria_disabled="true",
        title=f"{label} is on its way",
    )


def section_label(text: str) -> rx.Component:
    return rx.text(text, size="1", weight="bold", color=rx.color("gray", 9),
                   text_transform="uppercase", letter_spacing="0.06em", padding_x="12px",
                   padding_top="12px")


def nav_links() -> rx.Component:
    return rx.el.nav(rx.vstack(
        nav_link("Dashboard", "layout-dashboard", routes.DASHBOARD),
        section_label("Library"),
        nav_link("Assets", "images", routes.ASSETS),
        section_label("Create"),
        nav_link("Rename", "file-pen-line", routes.RENAME),
        nav_link("Generate", "sparkles", routes.GENERATE),
        nav_link("Slides", "presentation", routes.SLIDES),
        nav_link("Workflows", "workflow", routes.WORKFLOWS),
        nav_link("Templates", "layout-template", routes.TEMPLATES),
        rx.cond(SessionState.allowed["approvals.review"], nav_link("Reviews", "inbox", routes.REVIEWS)),
        *[soon_item(label, icon) for label, icon in CAPABILITIES],
        section_label("Account"),
        nav_link("Team & members", "users-round", routes.WORKSPACE),
        rx.cond(SessionState.billing_on & SessionState.allowed["billing.manage"],
                nav_link("Billing", "credit-card", routes.BILLING)),
        nav_link("Settings", "settings", routes.SETTINGS),
        rx.cond(
            SessionState.is_admin,
            rx.vstack(section_label("Admin"),
                      *[nav_link(label, icon, href) for label, icon, href in ADMIN_LINKS],
                      spacing="1", width="100%"),
        ),
        spacing="1", width="100%",
    ), aria_label="Main", style={"width": "100%"})
