"""The Workflows page: catalog, generated settings form, recipes, image picker and the live run."""

import reflex as rx

from components.layout.ai_hint import connect_hint, offline_note
from components.layout.confirm import confirm_action
from components.layout.numbers import count_of, count_of_text
from components.layout.role_notice import may, role_notice
from components.layout.shell import app_shell, page_header
from components.layout.text_wrap import WRAP_CLASS
from components.library.picker import picker_caption, picker_search
from components.workflows.form import settings_form
from state.workflows import WorkflowsState


def op_button(op: rx.Var) -> rx.Component:
    active = (WorkflowsState.op_id == op["id"]) & (WorkflowsState.mode == "operation")
    return rx.box(
        rx.text(op["name"], size="2", weight="medium"),
        rx.cond(op["remote"] != "", rx.text(op["remote"], size="1", color=rx.color("gray", 10))),
        on_click=WorkflowsState.choose_operation(op["id"]), role="button", tab_index=0, aria_pressed=active,
        padding="8px 10px", border_radius="8px", cursor="pointer", width="100%",
        background=rx.cond(active, rx.color("violet", 3), "transparent"),
        color=rx.cond(active, rx.color("violet", 11), rx.color("gray", 12)),
        _hover={"background": rx.color("gray", 3)}, class_name="operation", data_op=op["id"],
    )


def recipe_row(recipe: rx.Var) -> rx.Component:
    active = WorkflowsState.mode == "recipe:" + recipe["id"]
    return rx.hstack(
        rx.box(rx.text(recipe["name"], size="2", weight="medium", class_name=WRAP_CLASS),
               rx.text(recipe["steps"], size="1", color=rx.color("gray", 10)),
               on_click=WorkflowsState.set_mode("recipe:" + recipe["id"]), cursor="pointer", flex="1", min_width="0",
               role="button", tab_index=0, aria_pressed=active),
        confirm_action(rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                                      aria_label="Delete recipe"),
                       title="Delete this recipe?",
                       description="It goes for everyone in this workspace and cannot be brought back.",
                       confirm_label="Delete recipe", on_confirm=WorkflowsState.delete_recipe(recipe["id"])),
        padding="8px 10px", border_radius="8px", width="100%",
        background=rx.cond(active, rx.color("violet", 3), "transparent"),
    )


def catalog_panel() -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("OPERATIONS", size="1", weight="bold", color=rx.color("gray", 10)),
        offline_note("workflows"),
        connect_hint("workflows"),
        rx.foreach(WorkflowsState.operations, op_button),
        rx.cond(WorkflowsState.recipes.length() > 0, rx.vstack(
            rx.text("MY RECIPES", size="1", weight="bold", color=rx.color("gray", 10), margin_top="12px"),
            rx.foreach(WorkflowsState.recipes, recipe_row), spacing="1", width="100%")),
        spacing="1", width="100%",
    ), width="100%")


def draft_panel() -> rx.Component:
    s = WorkflowsState
    return rx.cond(
        s.draft_steps.length() > 0,
        rx.card(rx.vstack(
            rx.hstack(rx.text("Recipe being built", weight="bold"), rx.spacer(),
                      rx.cond(s.mode == "draft", rx.badge("will run", color_scheme="violet"),
                              rx.button("Run this recipe", size="1", variant="soft", on_click=s.set_mode("draft"))),
                      width="100%", align="center"),
            rx.foreach(s.draft_steps, lambda st: rx.hstack(
                rx.badge(st["id"]), rx.text(st["name"], size="2"), rx.spacer(),
                rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost",
                               on_click=s.remove_step(st["id"]), aria_label="Remove step"),
                width="100%", align="center")),
            rx.hstack(rx.input(value=s.draft_name, on_change=s.set_draft_name, placeholder="Recipe name",
                               max_length=80, flex="1", aria_label="Recipe name"),
                      rx.button("Save recipe", on_click=s.save_recipe(s.click_key)), width="100%"),
            spacing="2", width="100%",
        ), width="100%", id="recipe-draft"),
    )


def picker_tile(asset: rx.Var) -> rx.Component:
    chosen = WorkflowsState.chosen.contains(asset["id"])
    return rx.box(
        rx.box(
            rx.image(src=asset["thumb"], alt=asset["name"], width="100%", height="100%", object_fit="contain",
                     loading="lazy"),
            rx.cond(chosen, rx.box(rx.icon("check", size=14), position="absolute", top="6px", right="6px",
                                   background=rx.color("violet", 9), color="white", border_radius="999px",
                                   padding="3px", line_height="0")),
            position="relative", aspect_ratio="1", border_radius="8px", padding="4px",
            background=rx.color("gray", 3),
            outline=rx.cond(chosen, f"3px solid {rx.color('violet', 9)}", "none"),
        ),
        picker_caption(asset["name"]),
        on_click=WorkflowsState.toggle_image(asset["id"]), cursor="pointer", role="checkbox", aria_checked=chosen,
        aria_label=asset["name"], tab_index=0, class_name="pick-tile", min_width="0",
    )


def picker() -> rx.Component:
    s = WorkflowsState
    return rx.card(rx.vstack(
        rx.hstack(rx.text("Images", weight="bold"), rx.badge(s.chosen_count.to_string() + " chosen"), rx.spacer(),
                  rx.button("All", size="1", variant="soft", on_click=s.choose_all),
                  rx.button("None", size="1", variant="soft", color_scheme="gray", on_click=s.choose_none),
                  width="100%", align="center"),
        picker_search(s.library_query, s.search_library, s.include_derived, s.set_include_derived),
        rx.cond(s.library.length() > 0,
                rx.scroll_area(rx.grid(rx.foreach(s.library, picker_tile), columns=rx.breakpoints(initial="4", md="6"),
                                       spacing="2", width="100%", padding="4px 14px 4px 4px"),
                               max_height="300px", type="auto"),
                rx.text(rx.cond(s.library_query != "", "No ready picture matches that search.",
                                "Your library is empty: add images on the Assets page first."), size="2",
                        color=rx.color("gray", 10))),
        rx.text("“All” takes every ready picture matching the search (", s.library_total,
                "), not only those shown.", size="1", color=rx.color("gray", 10)),
        spacing="2", width="100%",
    ), width="100%")


def item_row(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.image(src=item["source_thumb"], width="40px", height="40px", object_fit="cover", border_radius="6px",
                 alt=""),
        rx.icon("arrow-right", size=14, color=rx.color("gray", 9)),
        rx.cond(item["output_thumb"] != "",
                rx.image(src=item["output_thumb"], height="40px", border_radius="6px", alt="result"),
                rx.center(rx.cond(item["output_pending"] == "yes", rx.spinner(size="1")), width="40px",
                          height="40px", border_radius="6px", background=rx.color("gray", 3))),
        rx.text(item["name"], size="2", overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                flex="1"),
        # The result is the original itself ("unchanged") or an image already in the library.
        rx.cond(item["note"] != "", rx.badge(item["note"], variant="soft", color_scheme="gray")),
        rx.match(item["status"],
                 ("done", rx.badge("done", color_scheme="green")),
                 ("failed", rx.tooltip(rx.badge("failed", color_scheme="red"), content=item["error"])),
                 ("canceled", rx.badge("canceled", color_scheme="gray")),
                 ("running", rx.badge(rx.spinner(size="1"), "running", color_scheme="amber")),
                 rx.badge("queued", variant="soft")),
        rx.cond(item["warning"] != "", rx.tooltip(
            rx.badge(rx.icon("triangle-alert", size=12), "warning", color_scheme="amber", class_name="item-warning"),
            content=item["warning"])),
        rx.cond(item["download"] != "",
                rx.link(rx.icon_button(rx.icon("download", size=14), size="1", variant="ghost", tab_index=-1),
                        href=item["download"], reload_document=True, aria_label="Download result")),
        width="100%", align="center", spacing="2", class_name="run-item", data_status=item["status"],
    )


def run_panel() -> rx.Component:
    s = WorkflowsState
    run = s.run
    return rx.cond(
        run.contains("id"),
        rx.card(rx.vstack(
            rx.hstack(
                rx.text(run["name"], weight="bold"),
                # partial: some images failed (the counts beside it say how many).
                rx.badge(run["status"], color_scheme=rx.match(run["status"], ("succeeded", "green"),
                                                               ("partial", "orange"), ("failed", "red"),
                                                               ("canceled", "gray"), "amber")),
                rx.text(run["done"] + " done · " + run["failed"] + " failed · "
                        + count_of_text(run["total"], "image", "images"), size="2",
                        color=rx.color("gray", 10)),
                rx.spacer(),
                rx.cond(s.run_active, rx.button("Cancel", size="1", variant="soft", color_scheme="gray",
                                                on_click=s.cancel_run)),
                rx.cond(~s.run_active & (run["failed"] != "0"),
                        rx.button("Retry failed", size="1", variant="soft", on_click=s.retry_failed)),
                rx.cond(~s.run_active & (run["done"] != "0"),
                        rx.link(rx.button(rx.icon("download", size=14), "Download ZIP", size="1", tab_index=-1),
                                href=run["download"], reload_document=True)),
                width="100%", align="center", wrap="wrap",
            ),
            rx.progress(value=s.run_percent, width="100%",
                        color_scheme=rx.cond(run["status"] == "canceled", "gray", "violet")),
            # Room on the right for the scrollbar, which Radix draws over the content (it hid the download icons).
            rx.scroll_area(rx.vstack(rx.foreach(s.items, item_row), spacing="2", width="100%", padding_right="14px"),
                           max_height="420px", type="auto"),
            spacing="3", width="100%",
        ), width="100%", id="workflow-run", data_status=run["status"]),
    )


def recent_runs() -> rx.Component:
    return rx.cond(WorkflowsState.runs.length() > 0, rx.card(rx.vstack(
        rx.text("RECENT RUNS", size="1", weight="bold", color=rx.color("gray", 10)),
        rx.foreach(WorkflowsState.runs, lambda r: rx.hstack(
            rx.link(r["name"], on_click=WorkflowsState.open_run(r["id"]), cursor="pointer", size="2"),
            rx.spacer(), rx.text(r["count"] + " images · " + r["status"], size="1", color=rx.color("gray", 10)),
            width="100%")),
        spacing="1", width="100%"), width="100%"))


def run_bar() -> rx.Component:
    s = WorkflowsState
    return rx.vstack(
        rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                               width="100%", role="alert", id="workflow-error")),
        rx.hstack(
            rx.button(rx.icon("plus", size=14), "Add as recipe step", variant="soft", on_click=s.add_step,
                      disabled=s.mode != "operation"),
            rx.spacer(),
            rx.text(rx.cond(s.mode == "operation", "Runs: " + s.op_info["name"],
                            rx.cond(s.mode == "draft", "Runs: the recipe being built", "Runs: the saved recipe")),
                    size="2", color=rx.color("gray", 10)),
            rx.button(rx.icon("play", size=14), "Run on " + count_of(s.chosen_count, "image", "images"), size="3",
                      on_click=s.start(s.click_key),
                      disabled=s.run_active | (s.chosen_count == 0) | ~may("workflows.write")),
            width="100%", align="center", wrap="wrap",
        ),
        width="100%", spacing="2",
    )


def workflows_page() -> rx.Component:
    return app_shell(
        page_header("Workflows", "Typed image operations and saved recipes, on one image or hundreds."),
        role_notice("workflows.write", "run workflows"),
        rx.grid(
            rx.vstack(catalog_panel(), recent_runs(), spacing="3", width="100%"),
            rx.vstack(rx.card(settings_form(), width="100%"), draft_panel(), picker(), run_bar(), run_panel(),
                      spacing="3", width="100%"),
            columns=rx.breakpoints(initial="1", md="260px 1fr"), spacing="4", width="100%", align_items="start",
        ),
    )
