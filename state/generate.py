"""The Generate page: a prompt form that fits the chosen provider, live progress and the gallery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import reflex as rx
from pydantic import ValidationError

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.job_hub import Changes
from app.models import JobStatus, utcnow
from app.services import credits
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.form_errors import form_message
from app.services.generation import registry, service
from app.services.generation.service import GenerationInput
from app.services.generation.styles import list_styles
from state import live
from state.session import refused, session_user, signed_in

GALLERY_PAGE = 24
TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
# (label, size) offered when a provider takes any size; providers with fixed sizes list their own.
SIZE_PRESETS = [("Square", "1024x1024"), ("Landscape 16:9", "1344x768"), ("Portrait 9:16", "768x1344"),
                ("Photo 4:3", "1152x864"), ("Portrait 3:4", "864x1152"), ("Wide 21:9", "1536x640"),
                ("Small square", "512x512")]
# The fields as the form labels them, for its error sentences.
FIELD_LABELS = {"prompt": "Prompt", "negative_prompt": "Negative prompt", "style": "Style", "size": "Size",
                "n": "Images", "seed": "Seed", "provider": "Provider", "model": "Model"}
RANGES = {"all": None, "today": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


def _provider_row(row: dict) -> dict:
    caps = row["capabilities"]
    sizes = caps["sizes"] or [size for _, size in SIZE_PRESETS if _fits(caps, size)]
    labels = dict((size, label) for label, size in SIZE_PRESETS)
    return {"name": row["name"], "label": row["label"], "negative": "yes" if caps["negative_prompt"] else "",
            "seed": "yes" if caps["seed"] else "", "max_n": str(caps["max_n"]),
            "counts": [str(i) for i in range(1, caps["max_n"] + 1)],
            "sizes": [{"value": s, "label": f"{labels[s]} · {s.replace('x', '×')}" if s in labels
                       else s.replace("x", "×")} for s in sizes],
            "models": list(caps["models"]), "price": str(row["price_per_image"]),
            "steps": "yes" if caps["steps"] else "", "no_styles": list(caps.get("styles_unsupported", []))}


def _fits(caps: dict, size: str) -> bool:
    width, height = (int(x) for x in size.split("x"))
    return all(caps["min_side"] <= side <= caps["max_side"] and side % caps["size_multiple"] == 0
               for side in (width, height))


def _card(item: dict) -> dict[str, str]:
    params, asset = item["parameters"], item["asset"]
    return {"id": str(item["id"]), "generation_id": str(item["generation_id"]), "prompt": params["prompt"],
            "negative": params["negative_prompt"], "style": params["style"], "size": params["size"],
            "seed": str(item["seed"] if item["seed"] is not None else params["seed"]),
            "provider": registry.label(params["provider"]), "model": params["model"],
            "favourite": "yes" if item["favourite"] else "", "created": item["created_at"][:16].replace("T", " "),
            "thumb": routes.asset_thumbnail_url(str(asset["id"])), "asset_id": str(asset["id"]),
            "full": routes.image_download_url(str(item["id"]), "png"),
            "dims": f"{asset['width']}×{asset['height']}"}


EMPTY_CARD = dict.fromkeys(("id", "generation_id", "prompt", "negative", "style", "size", "seed", "provider",
                            "model", "favourite", "created", "thumb", "asset_id", "full", "dims"), "")
EMPTY_PROVIDER = {"name": "", "label": "", "negative": "", "seed": "", "max_n": "1", "counts": ["1"],
                  "sizes": [], "models": [], "price": "0", "steps": "", "no_styles": []}


def _gallery_of(workspace_id: int, filters: dict) -> tuple[list, int]:
    with read_scope() as session:
        return service.gallery(session=session, workspace_id=workspace_id, **filters)


def _generation_of(workspace_id: int, generation_id: int) -> dict:
    with read_scope() as session:
        return service.describe(session=session, workspace_id=workspace_id, generation_id=generation_id)


def _progress_of(workspace_id: int, generation_id: int, filters: dict) -> tuple[dict, tuple | None, int]:
    """The follower's read, outside the state lock: the generation, and once it ended the gallery and balance."""
    body = _generation_of(workspace_id, generation_id)
    if body["status"] not in TERMINAL:
        return body, None, 0
    with session_scope() as session:  # a month's allowance may be granted on this read: it writes
        balance = credits.balance(session=session, workspace_id=workspace_id)[0]
    return body, _gallery_of(workspace_id, filters), balance


class GenerateState(rx.State):
    prompt: str = ""
    negative_prompt: str = ""
    # "none" means no style (a select cannot hold an empty value).
    style: str = "none"
    size: str = "1024x1024"
    count: str = "1"
    # Empty: a random seed, shown on the result so it can be reused.
    seed: str = ""
    provider: str = ""
    model: str = ""
    # Configured providers, each with what its controls need (strings and lists only).
    providers: list[dict] = []
    styles: list[dict[str, str]] = []
    balance: int = 0
    form_error: str = ""
    submitting: bool = False
    # A key per click, new each time the form is (re)armed; the buttons send it with their event,
    # so both events of a double click carry the same key and only the first starts a job.
    click_key: str = ""
    # The generation being followed: id, status, progress, message, queue position, error.
    current: dict[str, str] = {}
    current_images: list[dict[str, str]] = []
    following: bool = False
    # The gallery and its filters.
    cards: list[dict[str, str]] = []
    total: int = 0
    limit: int = GALLERY_PAGE
    filter_provider: str = "all"
    filter_style: str = "all"
    filter_range: str = "all"
    favourites_only: bool = False
    selected_id: str = ""

    def _info(self) -> dict:
        return next((p for p in self.providers if p["name"] == self.provider), EMPTY_PROVIDER)

    @rx.var
    def provider_options(self) -> list[dict[str, str]]:
        return [{"name": p["name"], "label": p["label"]} for p in self.providers]

    @rx.var
    def size_options(self) -> list[dict[str, str]]:
        return list(self._info()["sizes"])

    @rx.var
    def count_options(self) -> list[str]:
        return list(self._info()["counts"])

    @rx.var
    def style_options(self) -> list[dict[str, str]]:
        """The styles the chosen provider can honour (a procedural engine is not offered "Photo")."""
        unsupported = set(self._info().get("no_styles", []))
        return [s for s in self.styles if s["key"] not in unsupported]

    @rx.var
    def model_options(self) -> list[str]:
        return list(self._info()["models"])

    @rx.var
    def supports_negative(self) -> bool:
        return bool(self._info()["negative"])

    @rx.var
    def supports_seed(self) -> bool:
        return bool(self._info()["seed"])

    @rx.var
    def cost(self) -> int:
        return int(self._info()["price"]) * int(self.count or 1)

    @rx.var
    def selected(self) -> dict[str, str]:
        pool = self.cards + self.current_images
        return next((c for c in pool if c["id"] == self.selected_id), EMPTY_CARD)

    @rx.var
    def busy(self) -> bool:
        return bool(self.current) and self.current.get("status") not in TERMINAL

    @rx.var
    def has_more(self) -> bool:
        return self.total > len(self.cards)

    def _load_options(self, workspace_id: int) -> None:
        rows = registry.available_providers(configured_only=True)
        for row in rows:
            row["price_per_image"] = service.price(row["name"], 1)
        self.providers = [_provider_row(r) for r in rows]
        names = [p["name"] for p in self.providers]
        if self.provider not in names:
            default = next((r["name"] for r in rows if r.get("default")), "")
            self.provider = default if default in names else (names[0] if names else "")
        with session_scope() as session:
            self.styles = [{"key": s.key, "name": s.name} for s in list_styles(session=session)]
            self.balance = credits.balance(session=session, workspace_id=workspace_id)[0]
        self._fit_to_provider()

    def _fit_to_provider(self) -> None:
        info = self._info()
        sizes = [s["value"] for s in info["sizes"]]
        if sizes and self.size not in sizes:
            self.size = sizes[0]
        if int(self.count or 1) > int(info["max_n"]):
            self.count = info["max_n"]
        if info["models"] and self.model not in info["models"]:
            self.model = info["models"][0]
        if self.style in info.get("no_styles", []):
            self.style = "none"

    def _gallery_filters(self) -> dict:
        span = RANGES.get(self.filter_range)
        return {"limit": self.limit, "provider": "" if self.filter_provider == "all" else self.filter_provider,
                "style": "" if self.filter_style == "all" else self.filter_style, "favourites": self.favourites_only,
                "since": utcnow() - span if span else None}

    def _reload_gallery(self, workspace_id: int) -> None:
        self._show_gallery(_gallery_of(workspace_id, self._gallery_filters()))

    def _show_gallery(self, gallery: tuple[list, int]) -> None:
        items, self.total = gallery
        self.cards = [_card(i) for i in items]

    def _reload_current(self, workspace_id: int) -> None:
        if not self.current:
            return
        self._show_current(_generation_of(workspace_id, int(self.current["id"])))

    def _show_current(self, body: dict) -> None:
        position = body.get("queue_position")
        self.current = {"id": str(body["id"]), "status": body["status"], "progress": str(body.get("progress", 0)),
                        "message": body.get("message", ""), "error": body["error"],
                        "queue": str(position) if position else "", "seed": str(body["parameters"]["seed"]),
                        "n": str(body["parameters"]["n"]), "prompt": body["parameters"]["prompt"]}
        self.current_images = [_card({**i, "parameters": body["parameters"], "created_at": body["created_at"]})
                               for i in body["images"]]

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.form_error, self.selected_id, self.limit = "", "", GALLERY_PAGE
        self.click_key = new_click_key()
        self._load_options(user.workspace_id)
        self._reload_gallery(user.workspace_id)
        try:
            self._reload_current(user.workspace_id)
        except AppError:
            self.current, self.current_images = {}, []
        if self.busy and not self.following:
            return GenerateState.follow

    @rx.event
    def set_prompt(self, value: str):
        self.prompt = value[:2000]

    @rx.event
    def set_negative_prompt(self, value: str):
        self.negative_prompt = value[:2000]

    @rx.event
    def set_style(self, value: str):
        self.style = value if value == "none" or any(s["key"] == value for s in self.style_options) else "none"

    @rx.event
    def set_size(self, value: str):
        self.size = value

    @rx.event
    def set_count(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.count = value if value in ("1", "2", "3", "4") else "1"

    @rx.event
    def set_seed(self, value: str):
        self.seed = "".join(ch for ch in value if ch.isdigit())[:10]

    @rx.event
    def random_seed(self):
        self.seed = ""

    @rx.event
    def set_model(self, value: str):
        self.model = value

    @rx.event
    def set_provider(self, value: str):
        if any(p["name"] == value for p in self.providers):
            self.provider, self.model = value, ""
            self._fit_to_provider()

    def _first_click(self, user_id: int, scope: str, click_key: str) -> bool:
        """True for the first event of a click (and re-arms the key); False for its repeats."""
        if not first_click(user_id=user_id, scope=scope, key=click_key):
            return False
        self.click_key = new_click_key()
        return True

    @rx.event
    @signed_in
    async def generate(self, user: UserPublic, form_data: dict):
        """Start a generation from exactly what the boxes show at the click (the form's data)."""
        if refusal := refused(user, "generate.write"):
            yield refusal
            return
        if self.submitting or self.busy:  # a double click: the first one is already on its way
            return
        self.form_error = ""
        info = self._info()
        self.prompt = str(form_data.get("prompt", self.prompt))[:2000]
        if info["negative"]:
            self.negative_prompt = str(form_data.get("negative_prompt", self.negative_prompt))[:2000]
        if not self.prompt.strip():
            self.form_error = "Write a prompt first."
            return
        try:
            data = GenerationInput(prompt=self.prompt, negative_prompt=self.negative_prompt if info["negative"] else "",
                                   style="" if self.style == "none" else self.style, size=self.size,
                                   n=int(self.count or 1), seed=int(self.seed) if self.seed and info["seed"] else None,
                                   provider=self.provider, model=self.model)
        except ValidationError as exc:
            self.form_error = form_message(exc, GenerationInput, FIELD_LABELS)
            return
        if not self._first_click(user.id, "generate", str(form_data.get("click_key", ""))):
            return
        self.submitting = True
        yield
        try:
            generation = await asyncio.to_thread(service.create_generation, workspace_id=user.workspace_id, data=data,
                                                 user_id=user.id)
        except AppError as exc:
            self.form_error = exc.message
            self.submitting = False
            return
        self.submitting = False
        self.current = {"id": str(generation.id), "status": generation.status, "progress": "0",
                        "message": "Waiting for a worker", "error": "", "queue": "", "seed": str(generation.seed),
                        "n": str(generation.n), "prompt": data.prompt}
        self.current_images = []
        with session_scope() as session:
            self.balance = credits.balance(session=session, workspace_id=user.workspace_id)[0]
        if not self.following:
            yield GenerateState.follow

    @rx.event
    @signed_in
    async def cancel_current(self, user: UserPublic):
        if refusal := refused(user, "generate.write"):
            return refusal
        if not self.current:
            return
        try:
            outcome = await asyncio.to_thread(service.cancel_generation, workspace_id=user.workspace_id,
                                              generation_id=int(self.current["id"]))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload_current(user.workspace_id)
        return rx.toast.info("Canceled." if outcome == "removed" else "Stopping…")

    @rx.event(background=True)
    async def follow(self):
        """Relay the current generation's progress until it ends; then refresh the gallery."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        def snapshot():
            if session_user(self) is None or not self.current:
                return live.STOP
            return int(self.current["id"]), self._gallery_filters()

        def prepare(changes: Changes, inputs):
            generation_id, filters = inputs
            if not changes.everything and generation_id not in changes.params("generation_id"):
                return None  # another page's job
            return lambda: _progress_of(workspace_id, generation_id, filters)

        def apply(result):
            body, gallery, balance = result
            if self.current.get("id") != str(body["id"]):
                return live.AGAIN  # another generation started during the read
            self._show_current(body)
            if gallery is None:
                return False
            self._show_gallery(gallery)
            self.balance = balance
            return True

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               reread_every=3.0)

    @rx.event
    @signed_in
    async def handle_filter_provider(self, user: UserPublic, value: str):
        self.filter_provider, self.limit = value[:32], GALLERY_PAGE
        self._reload_gallery(user.workspace_id)

    @rx.event
    @signed_in
    async def handle_filter_style(self, user: UserPublic, value: str):
        self.filter_style, self.limit = value[:40], GALLERY_PAGE
        self._reload_gallery(user.workspace_id)

    @rx.event
    @signed_in
    async def handle_filter_range(self, user: UserPublic, value: str):
        self.filter_range, self.limit = (value if value in RANGES else "all"), GALLERY_PAGE
        self._reload_gallery(user.workspace_id)

    @rx.event
    @signed_in
    async def toggle_favourites_only(self, user: UserPublic):
        self.favourites_only, self.limit = not self.favourites_only, GALLERY_PAGE
        self._reload_gallery(user.workspace_id)

    @rx.event
    @signed_in
    async def load_more(self, user: UserPublic):
        self.limit = min(self.limit + GALLERY_PAGE, 1000)
        self._reload_gallery(user.workspace_id)

    @rx.event
    def open_image(self, image_id: str):
        self.selected_id = image_id

    @rx.event
    def close_image(self):
        self.selected_id = ""

    @rx.event
    @signed_in
    async def toggle_favourite(self, user: UserPublic, image_id: str, favourite: str):
        if refusal := refused(user, "generate.write"):
            return refusal
        try:
            service.set_favourite(workspace_id=user.workspace_id, image_id=parse_id(image_id),
                                  favourite=favourite != "yes")
        except (AppError, ValueError):
            return rx.toast.error("That image no longer exists.")
        self._reload_gallery(user.workspace_id)
        self._reload_current(user.workspace_id)

    @rx.event
    @signed_in
    async def delete_image(self, user: UserPublic, image_id: str):
        if refusal := refused(user, "generate.write"):
            return refusal
        try:
            await asyncio.to_thread(service.delete_image, workspace_id=user.workspace_id, image_id=parse_id(image_id))
        except (AppError, ValueError):
            return rx.toast.error("That image no longer exists.")
        self.selected_id = ""
        self._reload_gallery(user.workspace_id)
        self._reload_current(user.workspace_id)
        return rx.toast.success("Image deleted.")

    @rx.event
    @signed_in
    async def use_settings(self, user: UserPublic, image_id: str):
        """Copy an image's settings (and its seed) into the form."""
        card = next((c for c in self.cards + self.current_images if c["id"] == image_id), None)
        if card is None:
            return rx.toast.error("That image no longer exists.")
        with session_scope() as session:
            generation = service.get_generation(session=session, workspace_id=user.workspace_id,
                                                generation_id=int(card["generation_id"]))
            params = service.parameters(generation)
        self.prompt, self.negative_prompt = params["prompt"], params["negative_prompt"]
        self.style = params["style"] or "none"
        if any(p["name"] == params["provider"] for p in self.providers):
            self.provider = params["provider"]
        self.size, self.count, self.seed, self.model = params["size"], "1", card["seed"], params["model"]
        self._fit_to_provider()
        self.selected_id = ""
        return rx.toast.info("Settings copied into the form, seed included.")

    @rx.event
    @signed_in
    async def make_variation(self, user: UserPublic, image_id: str, click_key: str = ""):
        if refusal := refused(user, "generate.write"):
            return refusal
        if not self._first_click(user.id, "variation", click_key):
            return None
        try:
            generation = await asyncio.to_thread(service.variation, workspace_id=user.workspace_id,
                                                 image_id=parse_id(image_id))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", "That image no longer exists."))
        self.selected_id = ""
        self.current = {"id": str(generation.id), "status": generation.status, "progress": "0",
                        "message": "Waiting for a worker", "error": "", "queue": "", "seed": str(generation.seed),
                        "n": str(generation.n), "prompt": generation.prompt}
        self.current_images = []
        if not self.following:
            return GenerateState.follow
