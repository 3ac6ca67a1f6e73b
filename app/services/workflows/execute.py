"""A workflow run's work: every queued item through its recipe, results into the asset library (the
`workflows.run` job's body)."""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from app.db import session_scope
from app.errors import AppError
from app.models import Asset, WorkflowItem, WorkflowRun, utcnow
from app.services import jobs
from app.services.assets import service as assets
from app.services.assets.images import clean_filename
from app.services.workflows import remote_engines
from app.services.workflows import runs as workflow_runs
from app.services.workflows.base import OpContext
from app.services.workflows.recipes import prepare_recipe
from app.settings import get_settings
from app.storage import get_storage


def run_items(ctx: jobs.Progress, run_id: int) -> str:
    """Every queued item of the run through its recipe (`workflow_threads` at a time); the run is closed with
    the job (runs.settle_job). Returns the result reference."""
    settings = get_settings()
    with session_scope() as session:
        run = session.get(WorkflowRun, run_id)
        workspace_id, definition, label = run.workspace_id, dict(run.definition), run.name
        todo = [(i.id, i.source_asset_id, i.source_name) for i in workflow_runs.items_of(session=session, run_id=run_id)
                if i.status in ("queued", "running")]
    recipe = prepare_recipe(definition, remote_available=remote_engines.available(settings))
    op_ctx = OpContext(remote=remote_engines.build_hook(settings) if recipe.remote_needs else None,
                       assets=_logos(workspace_id, recipe.asset_refs), max_input_pixels=settings.max_image_pixels)
    total, done = len(todo), 0
    # Threads: Pillow and OpenCV release the GIL while they decode, resize and encode.
    with ThreadPoolExecutor(max_workers=settings.workflow_threads) as pool:
        pending: set[Future] = set()
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < settings.workflow_threads:
                pending.add(pool.submit(_one, *queue.pop(0), workspace_id=workspace_id, recipe=recipe, op_ctx=op_ctx,
                                        run_id=run_id, label=label))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            done += len(finished)
            for future in finished:
                future.result()  # an unexpected error (database down) ends the job; RQ retries it
            try:
                ctx.progress(100 * done / max(1, total), f"{done} of {total} images")
            except jobs.JobCanceled:
                queue.clear()  # the items being worked on finish; the rest stay queued → canceled
                wait(pending)
                raise
    with session_scope() as session:  # the run itself is closed with the job, from the same counts
        status = workflow_runs.final_status(workflow_runs.counts(workflow_runs.items_of(session=session,
                                                                                         run_id=run_id)))
    return f"workflow_run:{run_id}:{status}"


def _logos(workspace_id: int, refs: set[str]) -> dict[str, bytes]:
    """Watermark logos by reference (an asset id: "12" or "asset:12"), read from the owner's library."""
    out = {}
    with session_scope() as session:
        for ref in refs:
            digits = ref.removeprefix("asset:").strip()
            asset_id = int(digits) if digits.isdigit() else -1
            asset = session.get(Asset, asset_id)
            if asset is not None and asset.workspace_id == workspace_id:
                out[ref] = get_storage().get(asset.storage_key)
    return out


def _one(item_id: int, source_id: int | None, source_name: str, *, workspace_id: int, recipe, op_ctx: OpContext,
         run_id: int, label: str) -> None:
    _set(item_id, status="running")
    try:
        with session_scope() as session:
            source = session.get(Asset, source_id) if source_id else None
            if source is None or source.workspace_id != workspace_id:
                raise AppError("The source image was deleted.", code="source_missing")
            key = source.storage_key
        outputs = recipe.run(get_storage().get(key), op_ctx)
        stem = source_name.rsplit(".", 1)[0]
        ids, same, info = [], [], {}
        for step_id, files in outputs.items():
            info[step_id] = files[0].info if files else {}
            for n, out in enumerate(files):
                suffix = f"-{step_id}" + (f"-{n}" if n else "")
                name = clean_filename(f"{stem}{suffix}.{out.ext}", out.ext)
                if out.mime.startswith("image/"):
                    lineage = {"source_asset_id": source_id, "run_id": run_id, "recipe": label, "step": step_id,
                               "steps": [{"op": s.op.id, "params": s.params} for s in recipe.steps]}
                    asset, is_new = assets.store_one(workspace_id=workspace_id, filename=name, data=out.data,
                                                     meta={"lineage": lineage}, origin="workflow",
                                                     source_asset_id=source_id)
                    role = workflow_runs.output_role(asset_id=asset.id, is_new=is_new, source_id=source_id,
                                                     meta=asset.meta or {})
                    if role == "output":
                        ids.append(asset.id)
                    else:  # the original itself, or an image of the user's: pointed at, never claimed
                        same.append({"step": step_id, "asset_id": asset.id, "source": role == "unchanged"})
                else:  # the palette's JSON travels in the item's info, not the image library
                    info[f"{step_id}_file"] = json.loads(out.data) if out.mime == "application/json" else out.ext
        if same:
            info[workflow_runs.SAME_KEY] = same
        _set(item_id, status="done", outputs=ids, info=workflow_runs.item_info(info))
    except AppError as exc:  # this image fails alone; the rest of the batch goes on
        _set(item_id, status="failed", error=exc.message[:500])
    except (OSError, ValueError, MemoryError) as exc:  # a file our checks passed but a step could not use
        if jobs.is_transient(exc):  # storage or the network, not this image: the job is retried, item and all
            raise
        _set(item_id, status="failed", error=f"This image could not be processed ({type(exc).__name__}: {exc})"[:500])


def _set(item_id: int, **values) -> None:
    with session_scope() as session:
        item = session.get(WorkflowItem, item_id)
        for key, value in values.items():
            setattr(item, key, value)
        if values.get("status") in ("done", "failed"):
            item.finished_at = utcnow()
        session.add(item)
