"""The editor page's review panel: status, stage progress, who approved, submit / approve / reject, rollback, and
the version's comment threads with replies and @mentions."""

import reflex as rx

from state.review_panel import ReviewPanelState as R
from state.template_editor import TemplateEditorState as E

MUTED = rx.color("gray", 11)


def _stage(stage: dict) -> rx.Component:
    icon = rx.match(stage["state"], ("done", rx.icon("circle-check", size=16, color=rx.color("grass", 10))),
                    ("current", rx.icon("circle-dot", size=16, color=rx.color("violet", 10))),
                    rx.icon("circle", size=16, color=rx.color("gray", 8)))
    return rx.hstack(
        icon,
        rx.vstack(
            rx.hstack(rx.text(stage["name"], size="2", weight="medium"),
                      rx.text(stage["count"] + "/" + stage["needed"], size="1", color=MUTED), spacing="2"),
            rx.cond(stage["approved_by"] != "", rx.text("Approved by " + stage["approved_by"], size="1",
                                                         color=MUTED)),
            spacing="0",
        ),
        spacing="2", align="start", width="100%",
    )


def _decisions() -> rx.Component:
    return rx.vstack(
        rx.cond(R.can.contains("submit"), rx.vstack(
            rx.button(rx.icon("send", size=14), "Submit for review", on_click=R.submit, width="100%",
                      disabled=(E.failing_count > 0) | E.dirty, id="submit-review"),
            rx.cond(E.failing_count > 0, rx.text("Fix the failing checks first.", size="1", color=MUTED)),
            width="100%", spacing="1")),
        rx.cond(R.can.contains("approve"),
                rx.button(rx.icon("check", size=14), "Approve", color_scheme="grass", on_click=R.approve,
                          width="100%", id="approve-version")),
        rx.cond(R.can.contains("reject"), rx.cond(
            R.reject_open,
            rx.vstack(
                rx.text_area(placeholder="Why is it sent back? The author reads this.", value=R.reject_reason,
                             on_change=R.set_reject_reason, rows="3", width="100%", id="reject-reason"),
                rx.hstack(rx.button("Send back", color_scheme="red", on_click=R.reject, id="confirm-reject"),
                          rx.button("Cancel", variant="soft", color_scheme="gray", on_click=R.set_reject_open(False)),
                          spacing="2"),
                width="100%", spacing="2"),
            rx.button(rx.icon("undo-2", size=14), "Reject…", variant="soft", color_scheme="red", width="100%",
                      on_click=R.set_reject_open(True), id="reject-version"))),
        width="100%", spacing="2",
    )


def _rollback() -> rx.Component:
    return rx.cond(R.can_activate & (R.rollback_to.length() > 0), rx.vstack(
        rx.text("Make another approved version active", size="1", color=MUTED),
        rx.hstack(rx.foreach(R.rollback_to, lambda n: rx.button(
            "v" + n, size="1", variant="outline", on_click=R.activate(n), id="activate-" + n)), wrap="wrap",
            spacing="2"),
        spacing="1", width="100%"))


def _comment(c: dict) -> rx.Component:
    return rx.box(
        rx.hstack(rx.text(c["author"], size="1", weight="bold"), rx.text(c["when"], size="1", color=MUTED),
                  rx.spacer(),
                  rx.cond((c["reply"] == "") & R.can_comment,
                          rx.link("Reply", size="1", on_click=R.set_reply_to(c["id"]), cursor="pointer")),
                  width="100%", align="center"),
        rx.text(c["body"], size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
        padding_left=rx.cond(c["reply"] == "yes", "16px", "0"),
        border_left=rx.cond(c["reply"] == "yes", f"2px solid {rx.color('gray', 5)}", "none"),
        width="100%", class_name="template-comment",
    )


def _comments() -> rx.Component:
    return rx.vstack(
        rx.text("Comments", size="2", weight="bold"),
        rx.cond(R.thread.length() == 0, rx.text("No comments on this version yet.", size="1", color=MUTED)),
        rx.foreach(R.thread, _comment),
        rx.cond(R.can_comment, rx.vstack(
            rx.cond(R.reply_to != "", rx.hstack(
                rx.text("Replying", size="1", color=MUTED),
                rx.link("cancel", size="1", on_click=R.set_reply_to(""), cursor="pointer"), spacing="2")),
            rx.text_area(placeholder="Comment… mention someone with @name or @email", value=R.comment_text,
                         on_change=R.set_comment_text, rows="2", width="100%", id="comment-body"),
            rx.button("Comment", size="1", variant="soft", on_click=R.add_comment,
                      disabled=R.comment_text.strip() == "", id="add-comment"),
            width="100%", spacing="2", align="end")),
        width="100%", spacing="2",
    )


def review_panel() -> rx.Component:
    v = R.version
    return rx.card(rx.vstack(
        rx.hstack(rx.text("Review", size="2", weight="bold"), rx.spacer(),
                  rx.cond(v.contains("number"), rx.badge("v" + v["number"] + " · " + v["status_label"],
                                                         variant="soft", id="review-status")),
                  width="100%", align="center"),
        rx.cond(R.active_number != "", rx.text("Active: v" + R.active_number, size="1", color=MUTED,
                                               id="active-version"),
                rx.text("No version is active yet.", size="1", color=MUTED)),
        rx.cond(R.progress != "", rx.text(R.progress, size="1", color=MUTED, id="stage-progress")),
        rx.foreach(R.stages, _stage),
        rx.cond(v["reason"] != "", rx.callout(v["reason"], icon="message-square-warning", size="1",
                                              color_scheme="amber", width="100%")),
        rx.cond(R.error != "", rx.text(R.error, size="1", color=rx.color("red", 11))),
        _decisions(),
        _rollback(),
        rx.separator(),
        _comments(),
        spacing="3", width="100%",
    ), width="100%", on_mount=R.load, id="review-panel")  # the editor's save and reload call R.load too
