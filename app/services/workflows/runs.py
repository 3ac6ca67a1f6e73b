"""Image workflow runs: an operation or a recipe on a batch of library images, recipes saved by name.

A single operation runs as a one-step recipe, so every run has the same shape: the definition
(snapshot of what was run), one item per source image with its status, error and output assets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import after_commit, session_scope
from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.ids import DbId
from app.jsonable import jsonable
from app.models import (
    Asset,
    AssetStatus,
    Job,
    Recipe,
    WorkflowItem,
    WorkflowItemStatus,
    WorkflowRun,
    WorkflowRunStatus,
    utcnow,
)
from app.services import jobs
from app.services.assets import service as assets
from app.services.workflows import remote_engines
from app.services.workflows.catalog import get_operation, validate_params
from app.services.workflows.recipes import prepare_recipe
from app.settings import get_settings

log = logging.getLogger(__name__)
# partial: some items done and some failed. A run with a failed item never says "succeeded".
TERMINAL = (WorkflowRunStatus.SUCCEEDED, WorkflowRunStatus.PARTIAL, WorkflowRunStatus.FAILED,
            WorkflowRunStatus.CANCELED)


class RunRequest(BaseModel):
    """`POST /workflows/{id}/runs`: which library images, with which settings."""

    model_config = ConfigDict(extra="forbid")
    asset_ids: list[DbId] = Field(min_length=1, max_length=2000)
    params: dict[str, Any] = Field(default_factory=dict)


class RecipeInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=80)
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=20)
    outputs: list[str] | None = None

    def definition(self) -> dict[str, Any]:
        body = {"name": self.name, "steps": self.steps}
        if self.outputs is not None:
            body["outputs"] = self.outputs
        return body


def remote_available() -> set[str]:
    return remote_engines.available(get_settings())


def check_recipe(definition: dict[str, Any]) -> dict[str, Any]:
    """The recipe validated (ParamsInvalid names each bad field) with defaults filled in."""
    prepared = prepare_recipe(definition, remote_available=remote_available())
    return {"name": prepared.name, "outputs": list(prepared.outputs),
            "steps": [{"id": s.id, "op": s.op.id, "params": s.params, "input": s.input} for s in prepared.steps]}


def operation_recipe(op_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """A single operation as a one-step recipe; its settings errors name fields without a prefix."""
    op = get_operation(op_id)
    filled = validate_params(op_id, params, remote_available=remote_available())
    return {"name": op.name, "steps": [{"id": op.id, "op": op.id, "params": filled, "input": "source"}],
            "outputs": [op.id]}


def _owned_assets(session: Session, workspace_id: int, asset_ids: list[int]) -> list[Asset]:
    wanted = list(dict.fromkeys(asset_ids))  # once each, in the order given
    rows = {a.id: a for a in session.exec(select(Asset).where(col(Asset.id).in_(wanted),
                                                              Asset.workspace_id == workspace_id,
                                                               col(Asset.deleted_at).is_(None))).all()}
    missing = [i for i in wanted if i not in rows]
    if missing:  # someone else's asset reads exactly like a missing one
        raise NotFound(f"No such asset: {', '.join(map(str, missing[:10]))}.", code="asset_not_found")
    return [rows[i] for i in wanted]


def start_run(*, workspace_id: int, definition: dict[str, Any], asset_ids: list[int], operation: str = "",
              recipe_id: int | None = None) -> WorkflowRun:
    """Create the run, its items and its job in one transaction; the job (it walks the items, `workflow_threads`
    at a time) is queued once they are committed."""
    limit = get_settings().workflow_max_items
    if len(set(asset_ids)) > limit:
        raise ValidationFailed(f"A run takes at most {limit} images.", code="too_many_images")
    with _queue_down_is_503(), session_scope() as session:
        sources = _owned_assets(session, workspace_id, asset_ids)
        run = WorkflowRun(workspace_id=workspace_id, operation=operation, recipe_id=recipe_id, name=definition["name"],
                          definition=dict(definition), item_count=len(sources))
        session.add(run)
        session.flush()
        for position, asset in enumerate(sources):
            session.add(WorkflowItem(run_id=run.id, position=position, source_asset_id=asset.id,
                                     source_name=asset.filename))
        # A run that no job will ever pick up must not stay "queued": it goes, items and all.
        jobs.start_tracked(session, kind="workflows.run", domain_row=run, params={"run_id": run.id},
                           on_refused=_forget_run)
    return run


QUEUE_DOWN = "The job queue cannot be reached right now, so nothing was started. Try again in a moment."


@contextmanager
def _queue_down_is_503() -> Iterator[None]:
    """The enqueue (after the commit) could not reach Redis: the caller is told nothing was started."""
    try:
        yield
    except redis.exceptions.RedisError as exc:
        raise ServiceUnavailable(QUEUE_DOWN) from exc


def _forget_run(session: Session, job: Job) -> None:
    run_id = job.params["run_id"]
    session.execute(delete(WorkflowItem).where(col(WorkflowItem.run_id) == run_id))
    session.execute(delete(WorkflowRun).where(col(WorkflowRun.id) == run_id))


def settle_job(session: Session, job: Job, *, reason: str = "") -> None:
    """The run and its unfinished items as their job stands (app.services.jobs calls it with every status change
    of the job, in that transaction). A run that has moved on to another job is left alone (jobs.claims).
    `reason`: the reaper ended the job (its worker was lost)."""
    run = session.get(WorkflowRun, dict(job.params or {}).get("run_id"))
    if not jobs.claims(session, run, job):
        return
    if job.status == "running":
        run.status = "running"
        session.add(run)
        return
    items = items_of(session=session, run_id=run.id)
    if job.status in ("failed", "canceled"):  # items never reached are canceled (or failed), not left "queued"
        canceled = job.status == "canceled" and not reason
        default = ("Canceled" if job.attempts else "Canceled before it started") if canceled else "The run stopped"
        for item in items:
            if item.status in ("queued", "running"):
                item.status = "canceled" if canceled else "failed"
                item.error = reason or item.error or default
                item.finished_at = item.finished_at or (utcnow() if reason else None)
                session.add(item)
    if run.status not in TERMINAL:
        run.status = "canceled" if job.status == "canceled" else final_status(counts(items))
        run.finished_at = utcnow()
        session.add(run)
    run_id = run.id
    # However it ended, what was stored gets its thumbnail (read from the rows: every attempt's outputs).
    after_commit(session, lambda: _thumbnails_quietly(run_id))


def _thumbnails_quietly(run_id: int) -> None:
    try:
        queue_thumbnails(run_id=run_id)
    except Exception:  # Redis down: the reaper queues them once it is back
        log.warning("run %s: could not queue output thumbnails", run_id, exc_info=True)


def get_run(*, session: Session, workspace_id: int, run_id: int) -> WorkflowRun:
    run = session.get(WorkflowRun, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFound("No such workflow run.")
    return run


def items_of(*, session: Session, run_id: int) -> list[WorkflowItem]:
    return list(session.exec(select(WorkflowItem).where(WorkflowItem.run_id == run_id)
                             .order_by(col(WorkflowItem.position))).all())


def output_role(*, asset_id: int, is_new: bool, source_id: int | None, meta: dict[str, Any]) -> str:
    """What a stored result is to its item, given that assets are de-duplicated by their bytes.

    "output": a new asset, or another run's output with the same bytes: an output of this item.
    "unchanged": the source itself (stripping a JPEG with no metadata, a turn by 0°). Never an output: the
    original must not be "made from itself", nor be deleted as if it were a result.
    "existing": an upload or generated image that happens to have these bytes: the user's own, left as is.
    """
    if is_new:
        return "output"
    if asset_id == source_id:
        return "unchanged"
    return "output" if "lineage" in meta else "existing"


SAME_KEY = "_same_as"  # in item.info: results that are assets the item did not make ([{step, asset_id, source}])
MAX_INFO = 20_000  # characters of JSON an item's info may take
DROPPED_KEY = "_dropped"  # in item.info: the steps whose report was too long to keep


def item_info(info: dict[str, Any]) -> dict[str, Any]:
    """What an item's steps reported, ready for its JSON column: values JSON cannot hold become text, and the
    longest reports are dropped (named under DROPPED_KEY) until it fits in MAX_INFO characters."""
    value = jsonable(info)
    dropped: list[str] = []
    while len(json.dumps({**value, DROPPED_KEY: dropped})) > MAX_INFO:
        longest = max((k for k in value if k != SAME_KEY), key=lambda k: len(json.dumps(value[k])), default=None)
        if longest is None:
            break
        value = {k: v for k, v in value.items() if k != longest}
        dropped.append(longest)
    return {**value, DROPPED_KEY: dropped} if dropped else value


def item_public(item: WorkflowItem) -> dict[str, Any]:
    info = dict(item.info or {})  # a copy: the row's own dict is not ours to change
    same = info.pop(SAME_KEY, [])
    return {"id": item.id, "position": item.position, "source_asset_id": item.source_asset_id,
            "source_name": item.source_name, "status": item.status, "error": item.error,
            "output_asset_ids": list(item.outputs or []),
            # Steps whose result is the original, unchanged; or an image already in the library.
            "unchanged_asset_ids": [s["asset_id"] for s in same if s["source"]],
            "existing_asset_ids": [s["asset_id"] for s in same if not s["source"]],
            "info": info}


def counts(items: list[WorkflowItem]) -> dict[str, int]:
    out = dict.fromkeys(WorkflowItemStatus, 0)
    for item in items:
        out[item.status] = out.get(item.status, 0) + 1
    return out


def run_public(run: WorkflowRun, items: list[WorkflowItem] | None = None) -> dict[str, Any]:
    body = {"id": run.id, "status": run.status, "job_id": run.job_id, "name": run.name,
            "operation": run.operation or None, "recipe_id": run.recipe_id,
            "definition": run.definition, "item_count": run.item_count,
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}
    if items is not None:
        body["counts"] = counts(items)
        body["items"] = [item_public(i) for i in items]
    return body


def list_runs(*, session: Session, workspace_id: int, limit: int = 20) -> list[WorkflowRun]:
    return list(session.exec(select(WorkflowRun).where(WorkflowRun.workspace_id == workspace_id)
                             .order_by(col(WorkflowRun.id).desc()).limit(limit)).all())


def cancel_run(*, workspace_id: int, run_id: int) -> str:
    """Queued items are canceled at once; the item being worked on finishes, then the run stops (the run
    follows its job: settle_job)."""
    with session_scope() as session:
        run = get_run(session=session, workspace_id=workspace_id, run_id=run_id)
        job_id = run.job_id
    outcome = jobs.cancel(job_id=job_id, workspace_id=workspace_id)
    with session_scope() as session:
        for item in items_of(session=session, run_id=run_id):
            if item.status == WorkflowItemStatus.QUEUED:
                item.status, item.error = WorkflowItemStatus.CANCELED, "Canceled before it started"
                session.add(item)
    return outcome


def retry_failed(*, workspace_id: int, run_id: int) -> WorkflowRun:
    """Failed and canceled items go back to the queue with the run, and a new job picks them up, in one
    transaction; when the job cannot be queued they go back to how they ended."""
    with _queue_down_is_503(), session_scope() as session:
        run = get_run(session=session, workspace_id=workspace_id, run_id=run_id)
        if run.status not in TERMINAL:
            raise Conflict("This run is still going.", code="run_active")
        again = [i for i in items_of(session=session, run_id=run_id)
                 if i.status in (WorkflowItemStatus.FAILED, WorkflowItemStatus.CANCELED)]
        if not again:
            raise Conflict("No failed items to retry.", code="nothing_to_retry")
        before = {item.id: (item.status, item.error) for item in again}
        run_before = (run.status, run.finished_at, run.job_id)
        for item in again:
            item.status, item.error = WorkflowItemStatus.QUEUED, ""
            session.add(item)
        run.status, run.finished_at = "queued", None

        def put_back(session: Session, _job: Job) -> None:
            for item_id, (status, error) in before.items():
                item = session.get(WorkflowItem, item_id)
                item.status, item.error = status, error
                session.add(item)
            old = session.get(WorkflowRun, run_id)
            old.status, old.finished_at, old.job_id = run_before
            session.add(old)

        jobs.start_tracked(session, kind="workflows.run", domain_row=run, params={"run_id": run_id},
                           on_refused=put_back)
    return run


def final_status(tally: dict[str, int]) -> WorkflowRunStatus:
    """A run's status from its item counts: failed items make it partial (some done) or failed (none)."""
    if tally.get(WorkflowItemStatus.FAILED):
        return WorkflowRunStatus.PARTIAL if tally.get(WorkflowItemStatus.DONE) else WorkflowRunStatus.FAILED
    if tally.get(WorkflowItemStatus.CANCELED):
        return WorkflowRunStatus.CANCELED
    return WorkflowRunStatus.SUCCEEDED


def outputs_without_thumbnails(*, session: Session, run_id: int) -> list[int]:
    """Output assets of the run still "processing" (whichever attempt stored them), in item order."""
    ids = [a for item in items_of(session=session, run_id=run_id) for a in item.outputs or []]
    waiting = set(session.exec(select(Asset.id).where(col(Asset.id).in_(ids),
                                                      Asset.status == AssetStatus.PROCESSING)).all())
    return [a for a in dict.fromkeys(ids) if a in waiting]


def queue_thumbnails(*, run_id: int) -> list[str]:
    """Thumbnails for the run's outputs that lack one, in batched asset jobs (as for uploads).

    Read from the rows, not from what one attempt remembers: after a cancel, a killed worker or a retry,
    the outputs of every attempt are covered. Asset jobs skip what is ready, so calling it twice is safe.
    """
    with session_scope() as session:
        run = session.get(WorkflowRun, run_id)
        waiting = outputs_without_thumbnails(session=session, run_id=run_id) if run is not None else []
    return assets.submit_processing(workspace_id=run.workspace_id, asset_ids=waiting) if waiting else []


def _results(item: WorkflowItem) -> list[int]:
    """Every result of an item: its outputs, then the assets it found unchanged or already stored."""
    same = (item.info or {}).get(SAME_KEY, [])
    return list(dict.fromkeys([*(item.outputs or []), *(s["asset_id"] for s in same)]))


def output_assets(*, session: Session, workspace_id: int, run_id: int) -> list[tuple[WorkflowItem, Asset]]:
    """(item, result asset) for every result still in the library, in item order (what the ZIP holds)."""
    get_run(session=session, workspace_id=workspace_id, run_id=run_id)
    items = items_of(session=session, run_id=run_id)
    ids = [a for item in items for a in _results(item)]
    assets = {a.id: a for a in session.exec(select(Asset).where(col(Asset.id).in_(ids),
                                                                 Asset.workspace_id == workspace_id)).all()}
    return [(item, assets[a]) for item in items for a in _results(item) if a in assets]


# --- recipes ---------------------------------------------------------------------------------------------


def recipe_public(recipe: Recipe) -> dict[str, Any]:
    return {"id": recipe.id, "name": recipe.name, "definition": recipe.definition,
            "created_at": recipe.created_at.isoformat(), "updated_at": recipe.updated_at.isoformat()}


def list_recipes(*, session: Session, workspace_id: int) -> list[Recipe]:
    return list(session.exec(select(Recipe).where(Recipe.workspace_id == workspace_id)
                             .order_by(col(Recipe.name))).all())


def get_recipe(*, session: Session, workspace_id: int, recipe_id: int) -> Recipe:
    recipe = session.get(Recipe, recipe_id)
    if recipe is None or recipe.workspace_id != workspace_id:
        raise NotFound("No such recipe.")
    return recipe


def save_recipe(*, workspace_id: int, data: RecipeInput, recipe_id: int | None = None) -> Recipe:
    definition = check_recipe(data.definition())
    limit = get_settings().workflow_max_recipes
    try:
        with session_scope() as session:
            if recipe_id is None:
                owned = session.exec(select(func.count()).select_from(Recipe)
                                     .where(Recipe.workspace_id == workspace_id)).one()
                if owned >= limit:
                    raise ValidationFailed(f"You can keep at most {limit} recipes.", code="too_many_recipes")
                recipe = Recipe(workspace_id=workspace_id, name=data.name)
            else:
                recipe = get_recipe(session=session, workspace_id=workspace_id, recipe_id=recipe_id)
            recipe.name, recipe.definition, recipe.updated_at = data.name, dict(definition), utcnow()
            session.add(recipe)
            session.flush()
            session.refresh(recipe)
            return recipe
    except IntegrityError as exc:
        raise Conflict(f"You already have a recipe called {data.name!r}.", code="recipe_exists") from exc


def delete_recipe(*, workspace_id: int, recipe_id: int) -> None:
    with session_scope() as session:
        session.delete(get_recipe(session=session, workspace_id=workspace_id, recipe_id=recipe_id))
