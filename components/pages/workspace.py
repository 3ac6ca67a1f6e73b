"""The team page: the workspace's name, people, invitations, what each role can do, and its end."""

import reflex as rx

from components.layout.shell import app_shell
from components.templates.workflow_settings import workflow_card
from components.workspace.danger import danger_zone
from components.workspace.invitations import invite_form, pending_invitations
from components.workspace.members import members_table
from components.workspace.permissions_table import permissions_table, role_help_list
from components.workspace.roles import role_badge
from state.session import SessionState
from state.workspace import WorkspaceState
from state.workspace_switch import SwitcherState


def _card(title: str, text: str | rx.Var, *content: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading(title, size="4", as_="h2"),
                      rx.cond(text != "", rx.text(text, size="2", color=rx.color("gray", 11))), spacing="1"),
            *content,
            spacing="4", width="100%",
        ),
        size="3", width="100%",
    )


def _figure(label: str, value: rx.Var) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 10), text_transform="uppercase",
                             letter_spacing="0.05em", weight="bold"),
                     rx.text(value, size="4", weight="bold"), spacing="0")


def general_card() -> rx.Component:
    return _card(
        "Workspace", "",
        # Renaming is for owners and admins; everyone else reads the name in the heading.
        rx.cond(SessionState.allowed["workspace.manage"], rx.form(
            rx.hstack(
                rx.input(name="workspace_name", id="workspace_name", default_value=SessionState.workspace_name,
                         key=SessionState.workspace_name, max_length=80, required=True, size="3", flex="1",
                         aria_label="Workspace name"),
                rx.button("Rename", type="submit", size="3"),
                spacing="3", width="100%",
            ),
            on_submit=WorkspaceState.save_name, reset_on_submit=False, width="100%",
        )),
        rx.hstack(_figure("Members", WorkspaceState.usage["members"]),
                  _figure("Storage used", WorkspaceState.usage["storage"]),
                  _figure("Credits", WorkspaceState.usage["credits"]),
                  spacing="7", wrap="wrap"),
    )


def people_card() -> rx.Component:
    return _card("Members", "Everyone here shares the library, credits and work of this workspace.",
                 members_table())


def invitations_card() -> rx.Component:
    return _card(
        "Invite people",
        "They get an email with a link that works once and expires. Someone without an account creates one "
        "from the link.",
        invite_form(),
        rx.separator(size="4"),
        rx.heading("Waiting for an answer", size="3", as_="h3"),
        pending_invitations(),
    )


def roles_card() -> rx.Component:
    return _card("What each role can do", "The same rules decide every button, page and API call.",
                 rx.box(permissions_table(), width="100%", overflow_x="auto"))


def personal_view() -> rx.Component:
    return rx.vstack(
        _card(
            "This is your personal workspace",
            "Only you see the work here, and it cannot have other members. To work with others, create a team "
            "workspace: it has its own library and credits, and you invite people to it with a role.",
            rx.hstack(
                rx.button(rx.icon("plus", size=16), "Create team workspace", size="3",
                          on_click=SwitcherState.set_create_open(True)),
                rx.cond(SessionState.workspaces.length() > 1,
                        rx.text("Or switch to one of your teams from the menu at the top of the sidebar.",
                                size="2", color=rx.color("gray", 11))),
                spacing="4", align="center", wrap="wrap",
            ),
        ),
        _card("Roles in a team", "", role_help_list()),
        spacing="5", width="100%",
    )


def team_view() -> rx.Component:
    return rx.vstack(
        general_card(),
        people_card(),
        rx.cond(SessionState.allowed["members.manage"], invitations_card()),
        workflow_card(),
        roles_card(),
        danger_zone(),
        spacing="5", width="100%",
    )


def workspace_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.heading(SessionState.workspace_name, size="7", weight="bold", letter_spacing="-0.02em"),
            rx.hstack(
                rx.text(rx.cond(SessionState.workspace_kind == "personal", "Personal workspace", "Team workspace"),
                        " · your role:", color=rx.color("gray", 11), size="3"),
                role_badge(SessionState.workspace_role, SessionState.workspace_role_label, "2"),
                spacing="2", align="center",
            ),
            spacing="1", margin_bottom="24px",
        ),
        rx.cond(WorkspaceState.loaded,
                rx.cond(SessionState.workspace_kind == "personal", personal_view(), team_view())),
    )
