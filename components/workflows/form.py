"""The settings form an operation's JSON Schema generates: one control per field kind."""

import reflex as rx

from state.workflows import WorkflowsState


def _number(field: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.input(type="number", value=field.value, min=field.min, max=field.max, step=field.step,
                 on_change=lambda v: WorkflowsState.set_value(field.name, v), width="100%",
                 aria_label=field.title, name=field.name),
        rx.cond(field.unit != "", rx.text(field.unit, size="2", color=rx.color("gray", 10))),
        align="center", width="100%",
    )


def _control(field: rx.Var) -> rx.Component:
    return rx.match(
        field.kind,
        ("choice", rx.select.root(
            rx.select.trigger(width="100%", aria_label=field.title),
            rx.select.content(rx.foreach(field.options, lambda o: rx.select.item(o["label"], value=o["value"]))),
            value=field.value, on_change=lambda v: WorkflowsState.set_value(field.name, v))),
        ("boolean", rx.switch(checked=field.value == "true",
                              on_change=lambda v: WorkflowsState.set_value(field.name, v), aria_label=field.title)),
        ("color", rx.hstack(
            rx.el.input(type="color", value=field.value[:7], aria_label=field.title + " picker",
                        on_change=lambda v: WorkflowsState.set_value(field.name, v),
                        style={"width": "40px", "height": "32px", "border": "none", "background": "none"}),
            rx.input(value=field.value, on_change=lambda v: WorkflowsState.set_value(field.name, v),
                     aria_label=field.title, width="140px", max_length=9), align="center")),
        ("integer", _number(field)),
        ("number", _number(field)),
        rx.input(value=field.value, on_change=lambda v: WorkflowsState.set_value(field.name, v).debounce(250),
                 aria_label=field.title, width="100%", max_length=200),
    )


def form_field(field: rx.Var) -> rx.Component:
    return rx.cond(
        field.visible == "yes",
        rx.vstack(
            rx.hstack(rx.text(field.title, size="2", weight="medium"),
                      rx.cond(field.required == "yes", rx.text("*", color=rx.color("red", 10))), spacing="1"),
            _control(field),
            rx.cond(field.description != "", rx.text(field.description, size="1", color=rx.color("gray", 10))),
            spacing="1", width="100%", class_name="schema-field", data_field=field.name,
        ),
    )


def settings_form() -> rx.Component:
    s = WorkflowsState
    return rx.vstack(
        rx.heading(s.op_info["name"], size="4", as_="h2"),
        rx.text(s.op_info["description"], size="2", color=rx.color("gray", 10)),
        rx.foreach(s.fields, form_field),
        spacing="3", width="100%", id="operation-form",
    )
