"""The Workflows page: pick an operation, fill the form its schema makes, run it on library images,
chain steps into saved recipes, follow the run item by item."""

from __future__ import annotations

import asyncio
import json

import reflex as rx
from sqlmodel import col, select

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.job_hub import Changes
from app.models import Asset, AssetStatus, WorkflowItemStatus
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.library.picker import picker_cards, picker_ids
from app.services.workflows import runs as workflow_runs
from app.services.workflows.base import ParamsInvalid
from app.services.workflows.catalog import catalog
from app.services.workflows.form import defaults, form_fields, form_message, typed_params
from app.services.workflows.form_field import FormField
from state import live
from state.handoff import HandoffState
from state.session import refused, session_user, signed_in

LIBRARY = 200
MAX_CHOSEN = 2000  # "All" takes up to this many matches


CATEGORY_ORDER = ["size", "enhance", "format", "privacy", "brand", "analysis"]


def _first_result(item: dict) -> int | None:
    """The item's first output, else the image it pointed at (the original unchanged, or a library image)."""
    results = item["output_asset_ids"] or item["unchanged_asset_ids"] or item["existing_asset_ids"]
    return results[0] if results else None


def _item_row(item: dict, ready: set[int]) -> dict[str, str]:
    first = _first_result(item)
    note = "" if item["output_asset_ids"] else (
        "unchanged" if item["unchanged_asset_ids"] else "in library" if item["existing_asset_ids"] else "")
    # What a step did that the user should know although the item succeeded (an enlargement, for one).
    warnings = [w for step in item["info"].values() if isinstance(step, dict) for w in step.get("warnings", [])]
    return {"id": str(item["id"]), "name": item["source_name"], "status": item["status"], "error": item["error"],
            "note": note, "warning": " ".join(warnings),
            "source_thumb": routes.asset_thumbnail_url(str(item["source_asset_id"])) if item["source_asset_id"] else "",
            "output_id": str(first or ""),
            # The output's thumbnail is made by a batched asset job just after the run: shown once it exists.
            "output_thumb": routes.asset_thumbnail_url(str(first)) if first in ready else "",
            "output_pending": "yes" if first is not None and first not in ready else "",
            "download": routes.asset_download_url(str(first)) if first else ""}


def _run_of(workspace_id: int, run_id: int) -> tuple[dict, set]:
    """The run with its items, and which of its outputs have their thumbnails (blocking reads)."""
    with read_scope() as session:
        run = workflow_runs.get_run(session=session, workspace_id=workspace_id, run_id=run_id)
        body = workflow_runs.run_public(run, workflow_runs.items_of(session=session, run_id=run.id))
        outputs = [a for a in map(_first_result, body["items"]) if a is not None]
        ready = set(session.exec(select(Asset.id).where(col(Asset.id).in_(outputs),
                                                         Asset.status != AssetStatus.PROCESSING)).all())
    return body, ready


def _recipes_of(workspace_id: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The saved recipes and the recent runs, as the page lists them."""
    with read_scope() as session:
        rows = workflow_runs.list_recipes(session=session, workspace_id=workspace_id)
        recipes = [{"id": str(r.id), "name": r.name, "steps": " → ".join(
            s["op"] for s in r.definition.get("steps", []))} for r in rows]
        runs = [{"id": str(r.id), "name": r.name, "status": r.status, "count": str(r.item_count),
                 "created": r.created_at.strftime("%Y-%m-%d %H:%M")}
                for r in workflow_runs.list_runs(session=session, workspace_id=workspace_id, limit=8)]
    return recipes, runs


def _run_and_lists_of(workspace_id: int, run_id: int) -> tuple[tuple[dict, set], tuple | None]:
    """The follower's read, outside the state lock: the run, and once it is over (results' thumbnails
    made too) the recipes and recent runs."""
    body, ready = run = _run_of(workspace_id, run_id)
    pending = any((first := _first_result(i)) is not None and first not in ready for i in body["items"])
    over = body["status"] in workflow_runs.TERMINAL and not pending
    return run, _recipes_of(workspace_id) if over else None


class WorkflowsState(rx.State):
    # The catalog: id, name, description, category (strings); schemas stay server-side.
    operations: list[dict[str, str]] = []
    op_id: str = ""
    # The chosen operation's form values, as strings keyed by field name.
    values: dict[str, str] = {}
    form_error: str = ""
    # A key per click of Start and of Save recipe, re-armed after each (app/services/click_keys.py).
    click_key: str = ""
    # Saved recipes (id, name, steps summary) and the recipe being built (steps as JSON-ready dicts).
    recipes: list[dict[str, str]] = []
    draft_steps: list[dict[str, str]] = []
    draft_name: str = ""
    # Mode: "operation" runs the form's operation, "recipe:<id>" a saved recipe, "draft" the draft.
    mode: str = "operation"
    # The library to pick from: id, name, thumb; and the chosen ids.
    library: list[dict[str, str]] = []
    library_total: str = "0"
    # The picker's search and whether workflow outputs are offered too.
    library_query: str = ""
    include_derived: bool = False
    chosen: list[str] = []
    # The run being followed.
    run: dict[str, str] = {}
    items: list[dict[str, str]] = []
    following: bool = False
    runs: list[dict[str, str]] = []

    @rx.var
    def fields(self) -> list[FormField]:
        op = self._op()
        return [FormField(**f) for f in form_fields(op["schema"], self.values)] if op else []

    @rx.var
    def op_info(self) -> dict[str, str]:
        op = self._op()
        return {"name": op["name"], "description": op["description"]} if op else {"name": "", "description": ""}

    @rx.var
    def chosen_count(self) -> int:
        return len(self.chosen)

    @rx.var
    def run_active(self) -> bool:
        return bool(self.run) and self.run.get("status") not in workflow_runs.TERMINAL

    @rx.var
    def run_percent(self) -> int:
        total = int(self.run.get("total", "0") or 0)
        # Work actually done: canceled items did not run, so a canceled run's bar is not drawn full.
        finished = sum(1 for i in self.items if i["status"] in (WorkflowItemStatus.DONE, WorkflowItemStatus.FAILED))
        return int(100 * finished / total) if total else 0

    def _op(self) -> dict | None:
        return next((op for op in catalog(remote_available=workflow_runs.remote_available())
                     if op["id"] == self.op_id), None)

    def _reload_library(self, workspace_id: int) -> None:
        # The chosen ids may reach past the tiles shown ("All" of a search, a selection sent from the
        # library): the run's service checks each is the owner's.
        cards, self.library_total = picker_cards(workspace_id=workspace_id, q=self.library_query,
                                                 include_derived=self.include_derived, limit=LIBRARY, ready_only=True)
        self.library = [{**c, "name": c["filename"]} for c in cards]

    def _reload_recipes(self, workspace_id: int) -> None:
        self.recipes, self.runs = _recipes_of(workspace_id)

    def _reload_run(self, workspace_id: int) -> None:
        if not self.run:
            return
        self._show_run(_run_of(workspace_id, int(self.run["id"])))

    def _show_run(self, read: tuple[dict, set]) -> None:
        body, ready = read
        tally = body["counts"]
        self.run = {"id": str(body["id"]), "name": body["name"], "status": body["status"],
                    "total": str(body["item_count"]), "done": str(tally["done"]), "failed": str(tally["failed"]),
                    "canceled": str(tally["canceled"]), "download": routes.run_download_url(str(body["id"]))}
        self.items = [_item_row(i, ready) for i in body["items"]]
        # The recent-runs list shows this run too: it said "running" after a cancel until a reload.
        self.runs = [{**r, "status": self.run["status"]} if r["id"] == self.run["id"] else r for r in self.runs]

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        if chosen := (await self.get_state(HandoffState)).take_chosen(routes.WORKFLOWS):  # sent from the Assets page
            self.chosen = chosen
        self.click_key = new_click_key()
        ops = catalog(remote_available=workflow_runs.remote_available())
        ops.sort(key=lambda op: CATEGORY_ORDER.index(op["category"]) if op["category"] in CATEGORY_ORDER else 99)
        self.operations = [{"id": op["id"], "name": op["name"], "description": op["description"],
                            "category": op["category"],
                            "remote": "local engine only here" if op["remote"] and not op["remote"]["available"]
                            else ""} for op in ops]
        if not self.op_id:
            self._choose(ops[0]["id"])
        self.form_error = ""
        self._reload_library(user.workspace_id)
        self._reload_recipes(user.workspace_id)
        try:
            self._reload_run(user.workspace_id)
        except AppError:
            self.run, self.items = {}, []
        if self.run_active and not self.following:
            return WorkflowsState.follow

    def _choose(self, op_id: str) -> None:
        self.op_id = op_id
        op = self._op()
        self.values = defaults(op["schema"]) if op else {}
        self.mode, self.form_error = "operation", ""

    @rx.event
    def choose_operation(self, op_id: str):
        if any(op["id"] == op_id for op in self.operations):
            self._choose(op_id)

    @rx.event
    def set_value(self, name: str, value: str | bool | list[str]):
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = value[0] if value else ""
        self.values = {**self.values, name: str(value)[:500]}

    @rx.event
    def toggle_image(self, asset_id: str):
        self.chosen = [c for c in self.chosen if c != asset_id] if asset_id in self.chosen else [*self.chosen,
                                                                                               asset_id]

    @rx.event
    @signed_in
    async def choose_all(self, user: UserPublic):
        """Every ready picture the picker's search matches, not only the tiles on screen."""
        self.chosen = picker_ids(workspace_id=user.workspace_id, q=self.library_query,
                                 include_derived=self.include_derived,
                                 cap=MAX_CHOSEN, ready_only=True)

    @rx.event
    @signed_in
    async def search_library(self, user: UserPublic, value: str):
        self.library_query = str(value)[:200]
        self._reload_library(user.workspace_id)

    @rx.event
    @signed_in
    async def set_include_derived(self, user: UserPublic, value: bool):
        self.include_derived = bool(value)
        self._reload_library(user.workspace_id)

    @rx.event
    def choose_none(self):
        self.chosen = []

    @rx.event
    def set_mode(self, mode: str):
        self.mode = mode

    @rx.event
    def set_draft_name(self, value: str):
        self.draft_name = value[:80]

    def _settings_error(self, exc: AppError) -> str:
        """The form's settings errors named as the form labels them; any other error as the service said it."""
        op = self._op()
        if isinstance(exc, ParamsInvalid) and op is not None:
            return form_message(op["schema"], exc.errors)
        return exc.message

    def _current_params(self) -> dict | None:
        op = self._op()
        if op is None:
            return None
        return typed_params(op["schema"], self.values)

    @rx.event
    @signed_in
    async def add_step(self, user: UserPublic):
        """Check the form's settings and append them to the recipe being built."""
        try:
            filled = workflow_runs.operation_recipe(self.op_id, self._current_params() or {})["steps"][0]["params"]
        except AppError as exc:
            self.form_error = self._settings_error(exc)
            return
        step_id = f"s{len(self.draft_steps) + 1}"
        self.draft_steps = [*self.draft_steps, {"id": step_id, "op": self.op_id, "name": self.op_info["name"],
                                                "params": json.dumps(filled)}]
        self.form_error, self.mode = "", "draft"
        return rx.toast.success(f"Added “{self.op_info['name']}” as step {len(self.draft_steps)}.")

    @rx.event
    def remove_step(self, step_id: str):
        kept = [s for s in self.draft_steps if s["id"] != step_id]
        self.draft_steps = [{**s, "id": f"s{i + 1}"} for i, s in enumerate(kept)]

    def _draft_definition(self) -> dict:
        steps = [{"id": s["id"], "op": s["op"], "params": json.loads(s["params"]),
                  "input": "source" if i == 0 else self.draft_steps[i - 1]["id"]}
                 for i, s in enumerate(self.draft_steps)]
        return {"name": self.draft_name.strip() or "Untitled recipe", "steps": steps}

    @rx.event
    @signed_in
    async def save_recipe(self, user: UserPublic, click_key: str = ""):
        if refusal := refused(user, "workflows.write"):
            return refusal
        if not first_click(user_id=user.id, scope="workflow-recipe", key=click_key):
            return None  # the second event of a double click: before, it toasted "Add at least one step first."
        self.click_key = new_click_key()
        if not self.draft_steps:
            return rx.toast.error("Add at least one step first.")
        try:
            data = workflow_runs.RecipeInput(**self._draft_definition())
            recipe = workflow_runs.save_recipe(workspace_id=user.workspace_id, data=data)
        except (AppError, ValueError) as exc:
            self.form_error = getattr(exc, "message", str(exc))
            return
        self._reload_recipes(user.workspace_id)
        self.mode, self.draft_steps, self.draft_name = f"recipe:{recipe.id}", [], ""
        return rx.toast.success(f"Recipe “{recipe.name}” saved.")

    @rx.event
    @signed_in
    async def delete_recipe(self, user: UserPublic, recipe_id: str):
        if refusal := refused(user, "workflows.write"):
            return refusal
        try:
            workflow_runs.delete_recipe(workspace_id=user.workspace_id, recipe_id=int(recipe_id))
        except (AppError, ValueError):
            return rx.toast.error("That recipe is gone already.")
        if self.mode == f"recipe:{recipe_id}":
            self.mode = "operation"
        self._reload_recipes(user.workspace_id)

    @rx.event
    @signed_in
    async def start(self, user: UserPublic, click_key: str = ""):
        if refusal := refused(user, "workflows.write"):
            return refusal
        if not self.chosen:
            self.form_error = "Choose at least one image."
            return
        if not first_click(user_id=user.id, scope="workflows", key=click_key):
            return None  # the second event of a double click
        self.click_key = new_click_key()
        ids = [int(c) for c in self.chosen]
        try:
            if self.mode.startswith("recipe:"):
                with session_scope() as session:
                    recipe = workflow_runs.get_recipe(session=session, workspace_id=user.workspace_id,
                                                      recipe_id=int(self.mode.split(":", 1)[1]))
                    definition = workflow_runs.check_recipe(workflow_runs.recipe_public(recipe)["definition"])
                run = await asyncio.to_thread(workflow_runs.start_run, workspace_id=user.workspace_id,
                                              definition=definition,
                                              asset_ids=ids, recipe_id=recipe.id)
            elif self.mode == "draft":
                definition = workflow_runs.check_recipe(self._draft_definition())
                run = await asyncio.to_thread(workflow_runs.start_run, workspace_id=user.workspace_id,
                                              definition=definition,
                                              asset_ids=ids)
            else:
                definition = workflow_runs.operation_recipe(self.op_id, self._current_params() or {})
                run = await asyncio.to_thread(workflow_runs.start_run, workspace_id=user.workspace_id,
                                              definition=definition,
                                              asset_ids=ids, operation=self.op_id)
        except AppError as exc:
            # A recipe's errors name its steps' settings, which this form does not show.
            self.form_error = self._settings_error(exc) if self.mode == "operation" else exc.message
            return
        self.form_error = ""
        self.run = {"id": str(run.id), "name": run.name, "status": run.status, "total": str(run.item_count)}
        self._reload_run(user.workspace_id)
        self._reload_recipes(user.workspace_id)
        if not self.following:
            return WorkflowsState.follow

    @rx.event
    @signed_in
    async def open_run(self, user: UserPublic, run_id: str):
        self.run = {"id": run_id}
        try:
            self._reload_run(user.workspace_id)
        except (AppError, ValueError):
            self.run, self.items = {}, []
            return rx.toast.error("That run no longer exists.")
        if self.run_active and not self.following:
            return WorkflowsState.follow

    @rx.event
    @signed_in
    async def cancel_run(self, user: UserPublic):
        if refusal := refused(user, "workflows.write"):
            return refusal
        try:
            outcome = await asyncio.to_thread(workflow_runs.cancel_run, workspace_id=user.workspace_id,
                                              run_id=int(self.run["id"]))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload_run(user.workspace_id)
        return rx.toast.info("Canceled." if outcome == "removed" else "Stopping after the images in progress…")

    @rx.event
    @signed_in
    async def retry_failed(self, user: UserPublic):
        if refusal := refused(user, "workflows.write"):
            return refusal
        try:
            await asyncio.to_thread(workflow_runs.retry_failed, workspace_id=user.workspace_id,
                                    run_id=int(self.run["id"]))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload_run(user.workspace_id)
        if not self.following:
            return WorkflowsState.follow

    @rx.event(background=True)
    async def follow(self):
        """Relay the run's item statuses until it ends (and its results' thumbnails are made)."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        def snapshot():
            if session_user(self) is None or not self.run:
                return live.STOP
            return int(self.run["id"]), any(i["output_pending"] for i in self.items)

        def prepare(changes: Changes, inputs):
            run_id, waiting = inputs
            if not (changes.everything or run_id in changes.params("run_id")
                    or (waiting and changes.params("asset_ids"))):
                return None  # another page's job
            return lambda: _run_and_lists_of(workspace_id, run_id)

        def apply(read):
            run, lists = read
            if self.run.get("id") != str(run[0]["id"]):
                return live.AGAIN  # another run was opened during the read
            self._show_run(run)
            if lists is None:
                return False  # still running, or its results' thumbnails are still being made
            self.recipes, self.runs = lists
            return True

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               reread_every=3.0)
