"""The AI connections admin page: connections, their tests, the default per capability.

Every handler re-checks the admin role. An API key reaches the server only as a form value: it is
handed to the service and never assigned to the state (the page clears the field after each submit).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx
from pydantic import ValidationError

from app.db import read_scope
from app.errors import AppError
from app.providers.presets import CAPABILITIES, CAPABILITY_LABELS, PRESETS
from app.services.ai import checks, connections, defaults, guidance, resolve
from app.services.ai.connections import ConnectionInput, ConnectionPatch
from app.services.ai.defaults import DefaultInput
from app.services.auth.accounts import UserPublic
from app.services.form_errors import form_message
from state.session import admin_only, admin_or_away

OFFLINE = "offline"
KEY_FIELD = "connection-key"  # the password input's id, cleared after every submit


# The connection form's fields as their labels name them (form_message says "Address must…", not "base_url: …").
LABELS = {"name": "Name", "base_url": "Address", "api_key": "API key", "options": "Options", "preset": "Kind",
          "price": "Price", "model": "Model"}


def _problem(exc: ValidationError, model) -> str:
    return form_message(exc, model, LABELS, limit=1)


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else ""


def _row(view: dict) -> dict[str, str]:
    """One connection as the list shows it (strings only; `has_key` says whether one is set, never which)."""
    offers = view["offers"]
    tested = bool(view["tested_at"])
    if not tested:
        status = "untested"
    elif view["test_error"]:
        status = "failed"
    else:
        status = "ok"
    return {"id": str(view["id"]), "name": view["name"], "preset": view["preset"],
            "preset_label": view["preset_label"], "base_url": view["base_url"] or "(no address: AWS chain)",
            "enabled": "yes" if view["enabled"] else "", "has_key": "yes" if view["has_key"] else "",
            "status": status, "tested": _when(view["tested_at"]), "error": view["test_error"],
            "latency": f"{view['latency_ms']} ms" if view["latency_ms"] is not None else "",
            "models": f"{len(offers)} model" + ("" if len(offers) == 1 else "s")}


def _chips(view: dict) -> list[str]:
    return [f"{o['id']} · {', '.join(o.get('capabilities', ()))}" for o in view["offers"]]


def _options(form: dict, preset: str) -> dict[str, str]:
    return {f.key: str(form.get(f"opt_{f.key}", "")) for f in PRESETS[preset].fields}


class AdminAIState(rx.State):
    # One row per connection (see _row), by name.
    connections: list[dict[str, str]] = []
    # Connection id → "model · capabilities" chips from its last successful test.
    offers: dict[str, list[str]] = {}
    # The preset cards: name, label, capabilities, help.
    presets: list[dict[str, str]] = []
    # "" closed, "new" adding, else the id of the connection being edited.
    editing: str = ""
    # The preset of the form ("" while an add is still choosing one).
    form_preset: str = ""
    # What the form starts with: name, base_url, opt_<field> (never a key).
    form_values: dict[str, str] = {}
    # Whether the connection being edited has a stored key.
    form_has_key: bool = False
    form_error: str = ""
    # The id of the connection whose test is running ("" when none).
    testing: str = ""
    # The last test's answer for the list: id, ok, text.
    last_test: dict[str, str] = {"id": "", "ok": "", "text": ""}
    # One row per capability: capability, label, value, price, note.
    defaults: list[dict[str, str]] = []
    # Capability → its picker's options (value, label).
    default_options: dict[str, list[dict[str, str]]] = {}
    # Capability → the error of its last save.
    default_errors: dict[str, str] = {}

    @rx.var
    def form_spec(self) -> dict[str, str]:
        spec = PRESETS.get(self.form_preset)
        if spec is None:
            return {"label": "", "needs_url": "", "key": "none", "key_label": "", "help": "", "base_url": ""}
        return {"label": spec.label, "needs_url": "yes" if spec.needs_url else "", "key": spec.key,
                "key_label": spec.key_label, "help": spec.help, "base_url": spec.base_url}

    @rx.var
    def form_fields(self) -> list[dict[str, str]]:
        spec = PRESETS.get(self.form_preset)
        if spec is None:
            return []
        return [{"key": f.key, "name": f"opt_{f.key}", "label": f.label + ("" if f.required else " (optional)"),
                 "help": f.help, "required": "yes" if f.required else "",
                 "value": self.form_values.get(f"opt_{f.key}", "")} for f in spec.fields]

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self.editing, self.form_preset, self.form_error, self.testing = "", "", "", ""
        self.presets = [{"name": p.name, "label": p.label, "help": p.help,
                         "capabilities": ", ".join(p.capabilities)} for p in PRESETS.values()]
        _reload(self)

    @rx.event
    @admin_only
    async def open_add(self, admin: UserPublic):
        self.editing, self.form_preset, self.form_values, self.form_has_key, self.form_error = "new", "", {}, \
            False, ""

    @rx.event
    @admin_only
    async def choose_preset(self, admin: UserPublic, preset: str):
        spec = PRESETS.get(preset)
        if self.editing != "new" or spec is None:
            return
        self.form_preset, self.form_error = preset, ""
        self.form_values = {"name": _free_name(spec.label), "base_url": spec.base_url}

    @rx.event
    @admin_only
    async def open_editor(self, admin: UserPublic, connection_id: str):
        try:
            with read_scope() as session:
                view = connections.view(connections.get_connection(session=session,
                                                                   connection_id=int(connection_id)))
        except (AppError, ValueError):
            return rx.toast.error("That connection is gone.")
        self.editing, self.form_preset, self.form_has_key, self.form_error = str(view["id"]), view["preset"], \
            view["has_key"], ""
        self.form_values = {"name": view["name"], "base_url": view["base_url"],
                            **{f"opt_{k}": v for k, v in view["options"].items()}}

    @rx.event
    @admin_only
    async def close_editor(self, admin: UserPublic):
        self.editing, self.form_preset, self.form_values, self.form_error = "", "", {}, ""

    @rx.event
    @admin_only
    async def save_connection(self, admin: UserPublic, form: dict):
        """Add or edit from the form; the key goes straight to the service and the field is cleared."""
        clear_field = rx.set_value(KEY_FIELD, "")
        preset = self.form_preset
        if preset not in PRESETS or self.editing == "":
            return clear_field
        try:
            if self.editing == "new":
                row = connections.create_connection(actor_id=admin.id, data=ConnectionInput(
                    preset=preset, name=str(form.get("name", "")), base_url=str(form.get("base_url", "")),
                    api_key=str(form.get("api_key", "")), options=_options(form, preset)))
                done = f"“{row.name}” added; testing it now."
            else:
                patch = ConnectionPatch(name=str(form.get("name", "")), options=_options(form, preset),
                                        api_key=str(form.get("api_key", "")),
                                        clear_key=form.get("clear_key") in ("on", True, "true"))
                if PRESETS[preset].needs_url:
                    patch.base_url = str(form.get("base_url", ""))
                row = connections.update_connection(actor_id=admin.id, connection_id=int(self.editing), patch=patch)
                done = f"“{row.name}” saved; testing it now."
        except ValidationError as exc:
            self.form_error = _problem(exc, ConnectionInput if not self.editing else ConnectionPatch)
            return clear_field
        except (AppError, ValueError) as exc:
            self.form_error = getattr(exc, "message", str(exc))
            return clear_field
        self.editing, self.form_preset, self.form_values, self.form_error = "", "", {}, ""
        _reload(self)
        return [clear_field, rx.toast.success(done), AdminAIState.test_connection(str(row.id))]

    @rx.event(background=True)
    async def test_connection(self, connection_id: str):
        # A test may wait up to checks.TEST_TIMEOUT_SECONDS on the provider: it runs outside the state lock.
        async with self:
            admin, away = await admin_or_away(self)
            if admin is None:
                return away
            if self.testing:
                return rx.toast.info("A test is already running.")
            self.testing = connection_id
        outcome: dict[str, str]
        try:
            answer = await asyncio.to_thread(checks.check_connection, actor_id=admin.id,
                                             connection_id=int(connection_id))
            count, name = len(answer["offers"]), answer["connection"].get("name", "")
            outcome = {"id": connection_id, "ok": "yes" if answer["ok"] else "",
                       # A failure's reason is on the connection's card: said once, where it belongs.
                       "text": f"{name}: " + ((f"connected in {answer['latency_ms']} ms; {count} model"
                                               f"{'' if count == 1 else 's'} found.") if answer["ok"]
                                              else "the test failed; the reason is on its card below.")}
        except (AppError, ValueError) as exc:
            outcome = {"id": connection_id, "ok": "", "text": getattr(exc, "message", str(exc))}
        async with self:
            self.testing, self.last_test = "", outcome
            _reload(self)

    @rx.event
    @admin_only
    async def toggle_enabled(self, admin: UserPublic, connection_id: str, enabled: bool):
        try:
            connections.update_connection(actor_id=admin.id, connection_id=int(connection_id),
                                          patch=ConnectionPatch(enabled=bool(enabled)))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        _reload(self)

    @rx.event
    @admin_only
    async def delete_connection(self, admin: UserPublic, connection_id: str):
        try:
            connections.delete_connection(actor_id=admin.id, connection_id=int(connection_id))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        _reload(self)
        return rx.toast.success("Connection deleted.")

    @rx.event
    @admin_only
    async def save_default(self, admin: UserPublic, form: dict):
        """One capability's row: its form carries the capability, the choice and the price."""
        capability = str(form.get("capability", ""))
        if capability not in CAPABILITIES:
            return
        choice = str(form.get("choice", OFFLINE))
        try:
            price = int(str(form.get("price", "0")).strip() or "0")
            if choice == OFFLINE:
                item = DefaultInput(capability=capability, connection_id=None, price=price)
            else:
                connection_id, model = resolve.parse_ref(choice)
                item = DefaultInput(capability=capability, connection_id=connection_id, model=model, price=price)
            defaults.set_defaults(actor_id=admin.id, items=[item])
        except ValidationError as exc:
            self.default_errors = {**self.default_errors, capability: _problem(exc, DefaultInput)}
            return
        except (AppError, ValueError) as exc:
            message = getattr(exc, "message", "") or "Price: enter a whole number of credits (0 to 10000)."
            self.default_errors = {**self.default_errors, capability: message}
            return
        self.default_errors = {k: v for k, v in self.default_errors.items() if k != capability}
        _reload(self)
        return rx.toast.success(f"Default for {CAPABILITY_LABELS[capability].split(' (')[0].lower()} saved.")


def _free_name(label: str) -> str:
    """The preset's label, numbered when a connection already has that name."""
    with read_scope() as session:
        taken = {row.name for row in connections.list_connections(session=session)}
    name, n = label, 2
    while name in taken:
        name, n = f"{label} {n}", n + 1
    return name


def _reload(state: AdminAIState) -> None:
    with read_scope() as session:
        views = [connections.view(r) for r in connections.list_connections(session=session)]
        stored = defaults.get_defaults(session=session)
    state.connections = [_row(v) for v in views]
    state.offers = {str(v["id"]): _chips(v) for v in views}
    rows, options = [], {}
    for capability in CAPABILITIES:
        found = stored.get(capability)
        value = resolve.make_ref(found["connection_id"], found["model"]) if found else OFFLINE
        options[capability] = [*[{"value": c["value"], "label": c["label"]} for c in resolve.choices(capability)],
                               {"value": OFFLINE, "label": "Offline engine (no connection)"}]
        if value not in {o["value"] for o in options[capability]}:  # a default whose connection was disabled
            value = OFFLINE
        rows.append({"capability": capability, "label": CAPABILITY_LABELS[capability], "value": value,
                     "price": str(found["price"]) if found else "0", "note": guidance.OFFLINE_NOTES[capability],
                     "key": f"{capability}|{value}|{found['price'] if found else 0}"})
    state.defaults, state.default_options = rows, options

