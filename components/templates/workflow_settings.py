"""The approval workflow card of the team page: stages in order, approvals each needs, roles or named people."""

import reflex as rx

from state.approval_workflow import ROLE_CHOICES
from state.approval_workflow import WorkflowSettingsState as W

MUTED = rx.color("gray", 11)


def _chip(index, field: str, value, label, chosen) -> rx.Component:
    on = chosen.split(",").contains(value)
    return rx.button(label, size="1", variant=rx.cond(on, "solid", "outline"), color_scheme="violet",
                     on_click=W.toggle(index, field, value), disabled=~W.can_manage, aria_pressed=on)


def _stage(stage: dict, index) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            rx.text(index + 1, weight="bold", color=MUTED),
            rx.input(value=stage["name"], on_change=lambda v: W.set_field(index, "name", v), max_length=60,
                     disabled=~W.can_manage, aria_label="Stage name", class_name="stage-name", flex="1"),
            rx.input(value=stage["needed"], on_change=lambda v: W.set_field(index, "needed", v), type="number",
                     min="1", max="20", width="72px", disabled=~W.can_manage, aria_label="Approvals needed",
                     class_name="stage-needed"),
            rx.cond(W.can_manage, rx.hstack(
                rx.icon_button(rx.icon("arrow-up", size=14), size="1", variant="ghost", aria_label="Move up",
                               on_click=W.move_stage(index, -1)),
                rx.icon_button(rx.icon("arrow-down", size=14), size="1", variant="ghost", aria_label="Move down",
                               on_click=W.move_stage(index, 1)),
                rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                               aria_label="Remove stage", on_click=W.remove_stage(index)), spacing="1")),
            width="100%", align="center", spacing="2",
        ),
        rx.hstack(rx.text("Roles", size="1", color=MUTED, width="60px"),
                  *[_chip(index, "roles", r, r.capitalize(), stage["roles"]) for r in ROLE_CHOICES],
                  spacing="2", wrap="wrap", align="center"),
        rx.hstack(rx.text("People", size="1", color=MUTED, width="60px"),
                  rx.foreach(W.reviewers, lambda p: _chip(index, "members", p["user_id"], p["label"],
                                                           stage["members"])),
                  spacing="2", wrap="wrap", align="center"),
        spacing="2", width="100%",
    ), width="100%", class_name="workflow-stage")


def workflow_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.vstack(rx.heading("Approval workflow", size="4", as_="h2"),
                  rx.text("Every template version passes these stages in order before it can go live. With no "
                          "roles or people, a stage is for owners, admins and approvers; nobody approves their "
                          "own version. Saving sends running reviews back to their authors.", size="2",
                          color=MUTED),
                  spacing="1"),
        rx.cond(W.stages.length() == 0,
                rx.text("No stages: a version is approved as soon as it is sent.", size="2", color=MUTED)),
        rx.foreach(W.stages, _stage),
        rx.cond(W.error != "", rx.text(W.error, size="2", color=rx.color("red", 11), id="workflow-error")),
        rx.cond(W.can_manage, rx.hstack(
            rx.button(rx.icon("plus", size=14), "Add stage", variant="soft", color_scheme="gray",
                      on_click=W.add_stage, id="add-stage"),
            rx.button("Save workflow", on_click=W.save, id="save-workflow"),
            rx.text("Version " + W.version.to_string(), size="1", color=MUTED),
            spacing="3", align="center")),
        spacing="4", width="100%",
    ), size="3", width="100%", on_mount=W.load, id="approval-workflow")
