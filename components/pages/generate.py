"""The Generate page: prompt form, live progress, results and the gallery with its detail view."""

import reflex as rx

from components.generate.gallery import detail_dialog, gallery_section
from components.layout.ai_hint import connect_hint, offline_note
from components.layout.numbers import as_number
from components.layout.role_notice import may, role_notice
from components.layout.shell import app_shell, page_header
from state.generate import GenerateState
from state.generate_styles import NONE, GenerateStylesState


def field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control,
                     rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
                     spacing="1", width="100%")


def select_pairs(items, value, on_change, label_key: str, value_key: str, aria: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", aria_label=aria),
        rx.select.content(rx.foreach(items, lambda i: rx.select.item(i[label_key], value=i[value_key]))),
        value=value, on_change=on_change, size="2",
    )


def style_template_picker() -> rx.Component:
    """The workspace's image style templates (active versions): one fills the prompt and the settings."""
    t = GenerateStylesState
    return rx.cond(t.options.length() > 0, field("Image style template", rx.select.root(
        rx.select.trigger(width="100%", aria_label="Image style template"),
        rx.select.content(rx.select.item("None: write the prompt", value=NONE),
                          rx.foreach(t.options, lambda o: rx.select.item(o["name"], value=o["id"]))),
        value=t.chosen, on_change=t.choose, size="2"), "The approved version of the style fills the form."))


def prompt_form() -> rx.Component:
    s = GenerateState
    return rx.card(rx.form(rx.vstack(
        style_template_picker(),
        # The box's own text is what a submit sends (form data), never the debounced copy in the state:
        # a click 100 ms after the last key used to send the previous prompt.
        field("Prompt", rx.text_area(value=s.prompt, on_change=s.set_prompt.debounce(250), rows="4", name="prompt",
                                     placeholder='A calm forest morning. Put words in "quotes" to set them as type.',
                                     width="100%", aria_label="Prompt", max_length=2000)),
        rx.cond(s.supports_negative,
                field("Negative prompt", rx.input(value=s.negative_prompt,
                                                  on_change=s.set_negative_prompt.debounce(250),
                                                  name="negative_prompt", placeholder="What to leave out", width="100%",
                                                  aria_label="Negative prompt", max_length=2000))),
        # Full width: connection labels ("Studio ComfyUI — sd_xl_base_1.0.safetensors") are long.
        field("Provider", select_pairs(s.provider_options, s.provider, s.set_provider, "label", "name", "Provider")),
        rx.grid(
            rx.cond(s.model_options.length() > 1,
                    field("Model", rx.select(s.model_options, value=s.model, on_change=s.set_model,
                                             aria_label="Model", width="100%"))),
            field("Style", rx.select.root(
                rx.select.trigger(width="100%", aria_label="Style"),
                rx.select.content(rx.select.item("No style", value="none"),
                                  rx.foreach(s.style_options, lambda st: rx.select.item(st["name"], value=st["key"]))),
                value=s.style, on_change=s.set_style)),
            field("Size", select_pairs(s.size_options, s.size, s.set_size, "label", "value", "Size")),
            columns="2", spacing="3", width="100%",
        ),
        rx.cond(s.provider == "local", offline_note("images")),
        connect_hint("images"),
        field("Images", rx.segmented_control.root(
            rx.foreach(s.count_options, lambda c: rx.segmented_control.item(c, value=c)),
            value=s.count, on_change=s.set_count, aria_label="Number of images")),
        rx.cond(s.supports_seed, field(
            "Seed", rx.hstack(
                rx.input(value=s.seed, on_change=s.set_seed, placeholder="Random", inputmode="numeric",
                         width="100%", aria_label="Seed"),
                rx.tooltip(rx.icon_button(rx.icon("dices", size=16), variant="soft", on_click=s.random_seed,
                                          aria_label="Use a random seed"), content="Random seed"),
                width="100%"),
            "Same prompt + seed gives the same image. Leave empty for a new one each time.")),
        rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                               width="100%", role="alert", id="generate-error")),
        rx.hstack(
            rx.text(rx.cond(s.cost > 0, "Costs " + s.cost.to_string() + " credits", "Free on this provider"),
                    " · balance " + s.balance.to_string(), size="2", color=rx.color("gray", 10),
                    id="generate-cost"),
            rx.spacer(),
            # The click's key rides in the form: a double click sends one key twice, and starts one job.
            rx.el.input(type="hidden", name="click_key", value=s.click_key),
            rx.tooltip(rx.button(rx.icon("sparkles", size=16), "Generate", type="submit", size="3",
                                 loading=s.submitting, disabled=s.busy | ~may("generate.write")),
                       content="Ctrl+Enter in the prompt"),
            width="100%", align="center",
        ),
        spacing="4", width="100%",
    ), on_submit=s.generate, reset_on_submit=False, id="generate-form", width="100%"), width="100%")


# Ctrl/Cmd+Enter in a field of the form submits it, like the button (requestSubmit runs the same handler).
SUBMIT_ON_CTRL_ENTER = rx.script("""
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey) || e.isComposing) return;
  const form = e.target.closest && e.target.closest('#generate-form');
  if (form) { e.preventDefault(); form.requestSubmit(); }
});
""")


def status_panel() -> rx.Component:
    s = GenerateState
    cur = s.current
    return rx.cond(
        cur.contains("id"),
        rx.card(rx.vstack(
            rx.hstack(
                rx.match(cur["status"],
                         ("succeeded", rx.icon("circle-check", color=rx.color("green", 10))),
                         ("failed", rx.icon("circle-x", color=rx.color("red", 10))),
                         ("canceled", rx.icon("circle-slash", color=rx.color("gray", 10))),
                         rx.spinner()),
                rx.text(rx.match(cur["status"], ("queued", "Queued"), ("running", "Generating"),
                                 ("succeeded", "Done"), ("failed", "Failed"), ("canceled", "Canceled"), "…"),
                        weight="bold"),
                rx.cond(cur["queue"] != "", rx.badge("position " + cur["queue"] + " in queue", color_scheme="amber")),
                rx.badge("seed " + cur["seed"], variant="soft", color_scheme="gray"),
                rx.spacer(),
                rx.cond(s.busy, rx.button("Cancel", variant="soft", color_scheme="gray", size="1",
                                          on_click=s.cancel_current)),
                width="100%", align="center", spacing="2",
            ),
            # Which prompt this result is for, so it is never mistaken for what the box now says. Three lines at
            # most (a prompt may be ~2,000 characters and pushed the images off screen); the whole in its tooltip.
            rx.text(cur["prompt"], size="2", weight="medium", id="generation-prompt", trim="end", title=cur["prompt"],
                    style={"overflow_wrap": "anywhere", "display": "-webkit-box", "-webkit-line-clamp": "3",
                           "-webkit-box-orient": "vertical", "overflow": "hidden"}),
            rx.cond(s.busy, rx.progress(value=as_number(cur["progress"]), width="100%")),
            rx.text(rx.cond(cur["status"] == "succeeded",
                            rx.cond(s.current_images.length() == 1, "1 image, kept in your library and the gallery",
                                    s.current_images.length().to_string() + " images, kept in your library and "
                                                                            "the gallery"),
                            cur["message"]),
                    size="2", color=rx.color("gray", 10), id="generate-status"),
            rx.cond(cur["error"] != "", rx.callout(cur["error"], color_scheme="red", size="1", width="100%")),
            rx.grid(rx.foreach(s.current_images, result_tile), columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3", width="100%", id="current-results"),
            spacing="3", width="100%",
        ), width="100%", id="generation-status", data_status=cur["status"]),
        rx.card(rx.center(rx.vstack(
            rx.icon("sparkles", size=32, color=rx.color("violet", 9)),
            rx.text("Your images appear here as they are made.", color=rx.color("gray", 10)),
            align="center"), padding="48px"), width="100%"),
    )


def result_tile(card: rx.Var) -> rx.Component:
    return rx.box(
        rx.image(src=card["thumb"], alt=card["prompt"], width="100%", height="100%", object_fit="cover"),
        position="relative", aspect_ratio="1", border_radius="12px", overflow="hidden", cursor="pointer",
        on_click=GenerateState.open_image(card["id"]), role="button", tab_index=0,
        aria_label="Open result, seed " + card["seed"], class_name="result-tile",
    )


def generate_page() -> rx.Component:
    return app_shell(
        page_header("Generate", "Prompts to images: styles, sizes, seeds and any engine you run or pay for."),
        role_notice("generate.write", "generate images"),
        rx.grid(prompt_form(), status_panel(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4",
                width="100%", align_items="start"),
        gallery_section(),
        detail_dialog(),
        SUBMIT_ON_CTRL_ENTER,
    )
