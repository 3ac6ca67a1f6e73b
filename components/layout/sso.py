"""Single sign-on pieces: the provider buttons on the sign-in page."""

import reflex as rx

from state.signin import SignInState


def _provider_button(provider: rx.Var) -> rx.Component:
    # Lucide has no brand marks: one sign-in icon for every provider, the label says which.
    icon = rx.icon("log-in", size=18)
    # Document navigation, not client-side routing: the API answers with a redirect to the provider.
    return rx.link(
        rx.button(icon, "Continue with ", provider["label"], variant="outline", color_scheme="gray", size="3",
                  width="100%", tab_index=-1),
        href=provider["href"], reload_document=True, underline="none", width="100%",
    )


def sso_buttons() -> rx.Component:
    """One button per configured provider, then an "or" rule before the password form."""
    return rx.cond(
        SignInState.providers.length() > 0,
        rx.vstack(
            rx.foreach(SignInState.providers, _provider_button),
            rx.hstack(rx.separator(size="4"), rx.text("or", size="1", color=rx.color("gray", 10)),
                      rx.separator(size="4"), align="center", width="100%", spacing="3"),
            spacing="3", width="100%",
        ),
    )
