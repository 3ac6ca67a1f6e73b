"""The dashboard: a greeting, what Atelier will do, and the account at a glance."""

import reflex as rx

from app import routes
from components.layout.shell import app_shell, page_header
from state.dashboard import DashboardState
from state.session import SessionState

FEATURES = [
    ("sparkles", "Generate", "Prompts to images with styles, seeds and the providers you choose.", "violet",
     routes.GENERATE),
    ("presentation", "Slides", "Topic or document to an editable outline, then a real .pptx.", "blue",
     routes.SLIDES),
    ("workflow", "Workflows", "Upscale, cut out, crop for social, convert — on one image or hundreds.", "teal",
     routes.WORKFLOWS),
]


def feature_card(icon: str, title: str, text: str, color: str, href: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.box(rx.icon(icon, size=20), padding="8px", border_radius="10px",
                       background=rx.color(color, 3), color=rx.color(color, 11)),
                rx.hstack(rx.text(title, weight="bold", size="3"), rx.icon("arrow-right", size=16),
                          align="center", spacing="2"),
                rx.text(text, size="2", color=rx.color("gray", 11)),
                spacing="3",
            ),
            size="2", height="100%", _hover={"border_color": rx.color(color, 7)},
        ),
        href=href, underline="none", color="inherit",
    )


def quick_link(icon: str, title: str, text: str, href: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(rx.icon(icon, size=20, color=rx.color("violet", 11)),
                      rx.vstack(rx.text(title, weight="medium", size="2"),
                                rx.text(text, size="1", color=rx.color("gray", 10)), spacing="0"),
                      align="center", spacing="3"),
            size="2", _hover={"border_color": rx.color("violet", 7)},
        ),
        href=href, underline="none", color="inherit",
    )


def stat(icon: str, label: str, value: rx.Var, note: rx.Var | str, href: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.vstack(rx.text(label, size="2", color=rx.color("gray", 10)),
                          rx.text(value, size="7", weight="bold", letter_spacing="-0.02em"),
                          rx.text(note, size="1", color=rx.color("gray", 10)), spacing="1"),
                rx.spacer(),
                rx.box(rx.icon(icon, size=22), padding="10px", border_radius="12px",
                       background=rx.color("violet", 3), color=rx.color("violet", 11)),
                align="start", width="100%",
            ),
            size="3", _hover={"border_color": rx.color("violet", 7)},
        ),
        href=href, underline="none", color="inherit",
    )


def setup_item(item: rx.Var) -> rx.Component:
    done = item["done"] == "yes"
    return rx.link(
        rx.hstack(
            rx.cond(done, rx.icon("circle-check", size=18, color=rx.color("green", 10)),
                    rx.icon("circle", size=18, color=rx.color("gray", 8))),
            rx.text(item["label"], size="2", color=rx.cond(done, rx.color("gray", 10), rx.color("gray", 12)),
                    text_decoration=rx.cond(done, "line-through", "none")),
            rx.spacer(),
            rx.cond(done, rx.fragment(), rx.icon("arrow-right", size=16, color=rx.color("violet", 11))),
            align="center", spacing="3", width="100%", padding_y="6px",
        ),
        href=routes.ADMIN_AI, underline="none", color="inherit", width="100%",
    )


def setup_checklist() -> rx.Component:
    """Admins: what to connect so pages do more than the offline engines (gone once all are done)."""
    return rx.cond(
        DashboardState.setup.length() > 0,
        rx.card(rx.vstack(
            rx.hstack(rx.icon("plug", size=18, color=rx.color("violet", 11)),
                      rx.text("Set up AI", weight="bold", size="3"), align="center", spacing="2"),
            rx.text("Every page works offline. Each connection below lets Atelier do more; set a default for it "
                    "on the AI connections page.", size="2", color=rx.color("gray", 11)),
            rx.vstack(rx.foreach(DashboardState.setup, setup_item), spacing="0", width="100%"),
            spacing="2", width="100%",
        ), size="2", width="100%", margin_bottom="16px", id="ai-setup"),
    )


def dashboard_page() -> rx.Component:
    return app_shell(
        page_header(f"Hello, {SessionState.display_name}", "Here is your studio."),
        setup_checklist(),
        rx.grid(
            stat("images", "Assets", DashboardState.asset_count, "images in your library", routes.ASSETS),
            stat("coins", "Credits", DashboardState.credit_balance,
                 DashboardState.credits_held.to_string() + " held by running jobs", routes.SETTINGS),
            stat("loader", "Working on", DashboardState.active_jobs, "jobs queued or running", routes.ASSETS),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%", margin_bottom="16px",
        ),
        rx.grid(
            quick_link("cloud-upload", "Upload images", "Drop hundreds at once", routes.ASSETS),
            quick_link("file-pen-line", "Bulk rename", "SEO names and alt text", routes.RENAME),
            quick_link("key-round", "API tokens", "Script Atelier over REST", routes.SETTINGS),
            rx.cond(SessionState.is_admin,
                    quick_link("users", "Users", "Accounts on this Atelier", routes.ADMIN_USERS),
                    quick_link("shield-check", "Security", "Change your password", routes.SETTINGS)),
            columns=rx.breakpoints(initial="1", sm="2", md="4"), spacing="4", width="100%",
            margin_bottom="32px",
        ),
        rx.heading("Make something", size="4", margin_bottom="12px", as_="h2"),
        rx.grid(*[feature_card(*f) for f in FEATURES],
                columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4", width="100%"),
    )
