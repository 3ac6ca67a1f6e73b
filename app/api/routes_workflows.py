"""/api/v1/workflows, /workflow-runs and /recipes: typed image operations on batches. Owners only."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from zipstream import ZIP_STORED, ZipStream

from app.api.deps import CallerDep, requires
from app.api.ids import IdPath
from app.api.schemas import Outcome, file_responses
from app.api.workflow_schemas import OperationList, OperationOut, RecipeList, RecipeOut, RunDetail, RunList, RunOut
from app.db import read_scope, session_scope
from app.services.workflows import runs as workflow_runs
from app.services.workflows.catalog import catalog, get_operation
from app.services.workflows.runs import RecipeInput, RunRequest
from app.storage import get_storage

router = APIRouter(tags=["workflows"])


@router.get("/workflows", response_model=OperationList, dependencies=[requires("work.read")])
def list_operations(caller: CallerDep) -> dict:
    """The catalog: each operation with its JSON Schema (which also builds the form in the UI)."""
    return {"workflows": catalog(remote_available=workflow_runs.remote_available())}


@router.get("/workflows/{op_id}", response_model=OperationOut, dependencies=[requires("work.read")])
def operation_detail(op_id: str, caller: CallerDep) -> dict:
    get_operation(op_id[:40])  # 404 naming the known operations
    return next(op for op in catalog(remote_available=workflow_runs.remote_available())
                if op["id"] == op_id)


@router.post("/workflows/{op_id}/runs", status_code=202, response_model=RunOut,
             dependencies=[requires("workflows.write")])
def run_operation(op_id: str, body: RunRequest, caller: CallerDep) -> dict:
    """Settings errors answer 422 `invalid_params` with every bad field named in `error.fields`."""
    definition = workflow_runs.operation_recipe(op_id[:40], body.params)
    run = workflow_runs.start_run(workspace_id=caller.user.workspace_id, definition=definition,
                                  asset_ids=body.asset_ids,
                                  operation=op_id)
    return workflow_runs.run_public(run)


@router.get("/workflow-runs", response_model=RunList, dependencies=[requires("work.read")])
def list_runs(caller: CallerDep) -> dict:
    with session_scope() as session:
        return {"runs": [workflow_runs.run_public(r) for r in
                         workflow_runs.list_runs(session=session, workspace_id=caller.user.workspace_id)]}


@router.get("/workflow-runs/{run_id}", response_model=RunDetail, dependencies=[requires("work.read")])
def get_run(run_id: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        run = workflow_runs.get_run(session=session, workspace_id=caller.user.workspace_id, run_id=run_id)
        return workflow_runs.run_public(run, workflow_runs.items_of(session=session, run_id=run_id))


@router.post("/workflow-runs/{run_id}/cancel", response_model=Outcome, dependencies=[requires("workflows.write")])
def cancel_run(run_id: IdPath, caller: CallerDep) -> dict:
    """'removed' when it had not started; otherwise 'stopping': images in progress finish, the rest are dropped."""
    return {"outcome": workflow_runs.cancel_run(workspace_id=caller.user.workspace_id, run_id=run_id)}


@router.post("/workflow-runs/{run_id}/retry", status_code=202, response_model=RunOut,
             dependencies=[requires("workflows.write")])
def retry_run(run_id: IdPath, caller: CallerDep) -> dict:
    """Run the failed and canceled items again."""
    return workflow_runs.run_public(workflow_runs.retry_failed(workspace_id=caller.user.workspace_id, run_id=run_id))


@router.get("/workflow-runs/{run_id}/download", dependencies=[requires("work.read")],
            **file_responses("application/zip", description="Every output image, stored in one ZIP."))
def download_run(run_id: IdPath, caller: CallerDep) -> Response:
    """Every output as one ZIP, streamed (images are stored, not recompressed)."""
    with session_scope() as session:
        run = workflow_runs.get_run(session=session, workspace_id=caller.user.workspace_id, run_id=run_id)
        files = [(a.storage_key, a.filename) for _, a in
                 workflow_runs.output_assets(session=session, workspace_id=caller.user.workspace_id, run_id=run_id)]
        name = run.name
    storage = get_storage()
    archive = ZipStream(compress_type=ZIP_STORED, sized=False)
    seen: set[str] = set()
    for key, filename in files:
        unique, n = filename, 1
        while unique.lower() in seen:  # two sources with the same name must not overwrite each other
            n += 1
            stem, _, ext = filename.rpartition(".")
            unique = f"{stem}-{n}.{ext}"
        seen.add(unique.lower())
        archive.add(storage.iter_chunks(key), arcname=unique)
    zip_name = f"{name}-run-{run_id}.zip".replace("/", "-")
    return StreamingResponse(archive, media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(zip_name)}", "Cache-Control": "private, no-store"})


@router.get("/recipes", response_model=RecipeList, dependencies=[requires("work.read")])
def list_recipes(caller: CallerDep) -> dict:
    with session_scope() as session:
        return {"recipes": [workflow_runs.recipe_public(r) for r in
                            workflow_runs.list_recipes(session=session, workspace_id=caller.user.workspace_id)]}


@router.post("/recipes", status_code=201, response_model=RecipeOut, dependencies=[requires("workflows.write")])
def create_recipe(body: RecipeInput, caller: CallerDep) -> dict:
    return workflow_runs.recipe_public(workflow_runs.save_recipe(workspace_id=caller.user.workspace_id, data=body))


@router.get("/recipes/{recipe_id}", response_model=RecipeOut, dependencies=[requires("work.read")])
def get_recipe(recipe_id: IdPath, caller: CallerDep) -> dict:
    with session_scope() as session:
        return workflow_runs.recipe_public(workflow_runs.get_recipe(session=session,
                                                                    workspace_id=caller.user.workspace_id,
                                                                    recipe_id=recipe_id))


@router.put("/recipes/{recipe_id}", response_model=RecipeOut, dependencies=[requires("workflows.write")])
def update_recipe(recipe_id: IdPath, body: RecipeInput, caller: CallerDep) -> dict:
    return workflow_runs.recipe_public(workflow_runs.save_recipe(workspace_id=caller.user.workspace_id, data=body,
                                                                 recipe_id=recipe_id))


@router.delete("/recipes/{recipe_id}", status_code=204, dependencies=[requires("workflows.write")])
def delete_recipe(recipe_id: IdPath, caller: CallerDep) -> Response:
    workflow_runs.delete_recipe(workspace_id=caller.user.workspace_id, recipe_id=recipe_id)
    return Response(status_code=204)


@router.post("/recipes/{recipe_id}/runs", status_code=202, response_model=RunOut,
             dependencies=[requires("workflows.write")])
def run_recipe(recipe_id: IdPath, body: RunRequest, caller: CallerDep) -> dict:
    """Run a saved recipe; `params` must be empty (the recipe holds its settings)."""
    with session_scope() as session:
        recipe = workflow_runs.get_recipe(session=session, workspace_id=caller.user.workspace_id, recipe_id=recipe_id)
        definition = workflow_runs.check_recipe(workflow_runs.recipe_public(recipe)["definition"])
    run = workflow_runs.start_run(workspace_id=caller.user.workspace_id, definition=definition,
                                  asset_ids=body.asset_ids,
                                  recipe_id=recipe_id)
    return workflow_runs.run_public(run)
