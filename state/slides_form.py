"""The Slides page's request form: topic, source (pasted or uploaded), options, theme, brand kit, provider.

"Create outline" makes the deck and hands it to `SlidesState`, which edits, generates and previews it.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from pydantic import ValidationError

from app.errors import AppError, TooLarge
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.form_errors import form_message
from app.services.generation import registry
from app.services.slides import decks
from app.services.slides import files as deck_files
from app.services.slides.decks import DeckInput
from app.services.slides.engine import brand_kit, extract
from app.services.slides.engine.themes import list_themes
from state.session import refused, signed_in
from state.slides import SlidesState

# The fields as the form labels them, for its error sentences.
FIELD_LABELS = {"topic": "Topic", "source_text": "Source", "slides": "Slides", "audience": "Audience", "tone": "Tone",
                "language": "Language", "theme": "Design", "provider": "Text engine",
                "image_provider": "Picture engine"}
FORM_FIELDS = {"topic": 300, "source_text": 200_000, "audience": 120, "tone": 60}
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"), ("it", "Italiano"),
             ("nl", "Nederlands"), ("pt", "Português")]


def _theme_row(theme) -> dict[str, str]:
    return {"name": theme.name, "label": theme.label, "bg": "#" + theme.background, "text": "#" + theme.text,
            "a1": "#" + theme.accents[0], "a2": "#" + theme.accents[1], "a3": "#" + theme.accents[2],
            "font": theme.heading_font}


async def _read(upload: rx.UploadFile, limit: int, label: str) -> bytes:
    data = await upload.read(limit + 1)  # one byte over is enough to refuse it
    if len(data) > limit:
        raise TooLarge(f"The {label} is larger than {limit // (1024 * 1024)} MB.")
    return data


class SlidesFormState(rx.State):
    topic: str = ""
    source_text: str = ""
    # Where the source came from, e.g. "report.docx · 12,345 characters".
    source_note: str = ""
    slide_count: str = "8"
    audience: str = ""
    tone: str = ""
    language: str = "en"
    theme: str = "studio"
    provider: str = "local"
    provider_picked: bool = False
    # "default" is the server's choice (SLIDES_IMAGE_PROVIDER, else the default image provider); a select
    # item cannot have an empty value.
    image_provider: str = "default"
    notes: bool = True
    # A brand template stored for this user; when set, decks use it instead of the theme.
    brand_key: str = ""
    brand_name: str = ""
    themes: list[dict[str, str]] = []
    providers: list[dict[str, str]] = []
    image_providers: list[dict[str, str]] = []
    form_error: str = ""
    creating: bool = False
    # A key per click of Create outline, re-armed after each deck (app/services/click_keys.py).
    click_key: str = ""

    @rx.var
    def source_chars(self) -> str:
        return f"{len(self.source_text):,}"

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.click_key = new_click_key()
        self.themes = [_theme_row(t) for t in list_themes()]
        self.providers = decks.text_providers()
        try:
            default = registry.label(decks.image_provider_name(""))
        except AppError:  # the default is not set up: a deck with picture prompts says so when created
            default = "not set up"
        self.image_providers = [{"name": "default", "label": f"Server default · {default}"},
                                *[{"name": p["name"], "label": p["label"]}
                                  for p in registry.available_providers(configured_only=True)]]
        if self.image_provider not in {p["name"] for p in self.image_providers}:
            self.image_provider = "default"
        names = {p["name"] for p in self.providers}
        if self.provider not in names or not self.provider_picked:
            default = decks.default_text_provider()  # the admins' default text model, until one is picked
            self.provider = default if default in names else "local"
        self.form_error = ""

    @rx.event
    def set_field(self, name: str, value: str):
        if name in FORM_FIELDS:
            setattr(self, name, str(value)[:FORM_FIELDS[name]])
        elif name == "slide_count":
            self.slide_count = "".join(ch for ch in str(value) if ch.isdigit())[:2]
        elif name == "language" and value in dict(LANGUAGES):
            self.language = value
        elif name == "provider" and any(p["name"] == value for p in self.providers):
            self.provider, self.provider_picked = value, True
        elif name == "image_provider" and any(p["name"] == value for p in self.image_providers):
            self.image_provider = value

    @rx.event
    def set_notes(self, value: bool):
        self.notes = bool(value)

    @rx.event
    def pick_theme(self, name: str):
        if any(t["name"] == name for t in self.themes):
            self.theme = name

    @rx.event
    @signed_in
    async def handle_document(self, user: UserPublic, files: list[rx.UploadFile]):
        """Text from an uploaded .md/.txt/.docx/.pdf goes into the source box, where it can be edited."""
        if not files:
            return
        upload = files[0]
        name = upload.filename or "document"
        try:
            data = await _read(upload, extract.MAX_BYTES, "document")
            found = await asyncio.to_thread(extract.extract_text, data=data, filename=name)
        except AppError as exc:
            return rx.toast.error(exc.message)
        self.source_text = found.markdown[:FORM_FIELDS["source_text"]]
        self.source_note = " · ".join([name, f"{len(self.source_text):,} characters", *found.warnings[:2]])
        return rx.toast.success(f"Text taken from {name}.")

    @rx.event
    @signed_in
    async def handle_brand_kit(self, user: UserPublic, files: list[rx.UploadFile]):
        """A .pptx/.potx template, checked and stored; decks made now use its masters, fonts and logo."""
        if not files:
            return
        try:
            data = await _read(files[0], brand_kit.MAX_UPLOAD_BYTES, "brand template")
            self.brand_key, self.brand_name = await asyncio.to_thread(deck_files.store_brand_kit,
                                                                      workspace_id=user.workspace_id,
                                                                      data=data)
        except AppError as exc:
            return rx.toast.error(exc.message)
        return rx.toast.success(f"Brand template “{self.brand_name}” is ready.")

    @rx.event
    def clear_brand_kit(self):
        self.brand_key, self.brand_name = "", ""

    @rx.event
    def clear_source(self):
        self.source_text, self.source_note = "", ""

    @rx.event
    @signed_in
    async def create_outline(self, user: UserPublic, click_key: str = ""):
        if refusal := refused(user, "slides.write"):
            return refusal
        if not first_click(user_id=user.id, scope="slides", key=click_key):
            return None  # the second event of a double click
        self.click_key = new_click_key()
        self.form_error = ""
        try:
            data = DeckInput(topic=self.topic, source_text=self.source_text, slides=int(self.slide_count or 0),
                             audience=self.audience, tone=self.tone, language=self.language, theme=self.theme,
                             notes=self.notes, provider=self.provider,
                             image_provider="" if self.image_provider == "default" else self.image_provider)
        except ValidationError as exc:
            self.form_error = form_message(exc, DeckInput, FIELD_LABELS)
            return
        if not data.topic and not data.source_text:
            self.form_error = "Give a topic, or paste or upload a source."
            return
        self.creating = True
        try:
            deck = await asyncio.to_thread(decks.create_deck, workspace_id=user.workspace_id, data=data,
                                           brand_kit_key=self.brand_key)
        except AppError as exc:
            self.form_error = exc.message
            return
        finally:
            self.creating = False
        workspace = await self.get_state(SlidesState)
        return workspace.open_created(user.workspace_id, deck.id)
