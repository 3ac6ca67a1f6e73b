"""The reaper against real rows, a real Redis and real RQ workers: jobs that died leave nothing stuck."""

from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import update
from sqlmodel import col, select

from app.db import session_scope
from app.models import Asset, Generation, Job, RenameBatch, RenameItem, WorkflowItem, WorkflowRun, utcnow
from app.queue import get_queue
from app.redis_client import get_redis
from app.services import jobs, reaper
from app.services.assets import service as assets
from app.services.workflows import runs as workflow_runs
from jobs import periodic
from tests import images
from tests.integration.test_accounts import register

NOW = timedelta(0)  # no grace: the rows below are as old as they need to be


@pytest.fixture
def user(any_db):
    return register("ada@example.com")


def work() -> None:
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def sources(workspace_id: int, count: int) -> list[int]:
    return [assets.store_made(workspace_id=workspace_id, filename=f"p{i}.jpg", data=images.jpeg(300, 200, seed=i),
                              meta={}).id for i in range(count)]


def kill_job(job_id: str) -> None:
    """What a SIGKILL on the last attempt leaves: the job 'running' on a worker that is gone, then failed
    by the orphan reaper with no attempts left."""
    with session_scope() as session:
        session.execute(update(Job).where(col(Job.id) == job_id).values(
            status="running", worker_name="atelier-gone", attempts=Job.max_attempts,
            updated_at=utcnow() - timedelta(minutes=1)))
    assert jobs.reap_orphans(live_workers=set()) == [job_id]


def get(table, row_id):
    with session_scope() as session:
        return session.get(table, row_id)


def test_a_queued_job_redis_lost_is_queued_again_and_runs(user):
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 2),
                                  operation="rotate_flip",
                                  definition=workflow_runs.operation_recipe("rotate_flip", {"angle": 90}))
    get_redis().flushdb()  # Redis restarted without its data: the row says queued, RQ has nothing
    assert reaper.reap_stuck(grace=NOW)["jobs"] == [run.job_id]
    assert reaper.reap_stuck(grace=NOW)["jobs"] == []  # queued again once, not on every pass
    work()
    done = get(WorkflowRun, run.id)
    assert done.status == "succeeded" and get(Job, run.job_id).status == "succeeded"


def test_a_run_whose_job_died_is_settled_and_its_outputs_get_thumbnails(user):
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 3),
                                  operation="rotate_flip",
                                  definition=workflow_runs.operation_recipe("rotate_flip", {"angle": 90}))
    # The killed attempt had finished the first item (its output stored, no thumbnail yet), was on the second.
    output, _ = assets.store_one(workspace_id=user.workspace_id, filename="out.jpg", data=images.jpeg(200, 300, seed=9))
    with session_scope() as session:
        items = workflow_runs.items_of(session=session, run_id=run.id)
        items[0].status, items[0].outputs = "done", [output.id]
        items[1].status = "running"
        session.add_all(items[:2])
        session.get(WorkflowRun, run.id).status = "running"
    get_queue("default").empty()
    kill_job(run.job_id)  # the orphan reaper fails the job and settles the run in that same transaction
    settled = get(WorkflowRun, run.id)
    with session_scope() as session:
        items = workflow_runs.items_of(session=session, run_id=run.id)
    assert settled.status == "partial" and settled.finished_at is not None
    assert [i.status for i in items] == ["done", "failed", "failed"]
    assert all("lost" in i.error and "no attempts remain" in i.error for i in items[1:])
    assert get(Asset, output.id).status == "processing"
    work()  # the thumbnail job queued once the run was settled
    assert get(Asset, output.id).status == "ready" and get(Asset, output.id).thumb_key
    assert reaper.reap_stuck(grace=NOW)["workflow_runs"] == []  # nothing left to settle


def test_a_run_that_never_got_a_job_is_failed_and_can_be_retried(user):
    (source,) = sources(user.id, 1)
    with session_scope() as session:  # as left by a process stopped between the commit and the enqueue
        run = WorkflowRun(workspace_id=user.workspace_id, name="Adjust", definition=workflow_runs.operation_recipe(
            "adjust", {}), item_count=1)
        session.add(run)
        session.flush()
        session.add(WorkflowItem(run_id=run.id, position=0, source_asset_id=source))
        run_id = run.id
    assert reaper.reap_stuck(grace=NOW)["workflow_runs"] == [run_id]
    assert get(WorkflowRun, run_id).status == "failed"
    workflow_runs.retry_failed(workspace_id=user.workspace_id, run_id=run_id)
    work()
    assert get(WorkflowRun, run_id).status == "succeeded"


def test_young_rows_and_rows_with_a_live_job_are_left_alone(user):
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 1), operation="adjust",
                                  definition=workflow_runs.operation_recipe("adjust", {}))
    assert not any(reaper.reap_stuck(grace=NOW).values())  # its job is queued in Redis
    get_redis().flushdb()
    assert not any(reaper.reap_stuck().values())  # lost, but younger than the grace period
    assert get(WorkflowRun, run.id).status == "queued"


def test_batches_and_generations_whose_job_died_are_settled_with_a_reason(user):
    asset_ids = sources(user.id, 2)
    batch_job = jobs.submit(kind="rename.analyze", workspace_id=user.workspace_id, params={"batch_id": 0})
    gen_job = jobs.submit(kind="generate.images", workspace_id=user.workspace_id, params={"generation_id": 0})
    get_queue("default").empty()
    with session_scope() as session:
        batch = RenameBatch(workspace_id=user.workspace_id, status="analyzing", job_id=batch_job.id, image_count=2)
        session.add(batch)
        session.flush()
        session.add_all([RenameItem(batch_id=batch.id, asset_id=a, position=i, original_name=f"p{i}.jpg",
                                    status="done" if i == 0 else "pending") for i, a in enumerate(asset_ids)])
        generation = Generation(workspace_id=user.workspace_id, job_id=gen_job.id, status="running", prompt="a fox",
                                provider="local", width=256, height=256)
        session.add(generation)
        session.flush()
        batch_id, generation_id = batch.id, generation.id
    for job_id in (batch_job.id, gen_job.id):
        kill_job(job_id)
    done = reaper.reap_stuck(grace=NOW)
    assert done["rename_batches"] == [batch_id] and done["generations"] == [generation_id]
    assert get(RenameBatch, batch_id).status == "ready"  # one row was described: the batch is usable
    with session_scope() as session:
        rows = session.exec(select(RenameItem).where(RenameItem.batch_id == batch_id)
                            .order_by(col(RenameItem.position))).all()
    assert [r.status for r in rows] == ["done", "failed"] and "lost" in rows[1].error
    generation = get(Generation, generation_id)
    assert generation.status == "failed" and "lost" in generation.error and generation.finished_at


def test_assets_without_a_live_thumbnail_job_are_queued_or_failed(user):
    orphan, _ = assets.store_one(workspace_id=user.workspace_id, filename="a.jpg", data=images.jpeg(300, 200, seed=1))
    doomed, _ = assets.store_one(workspace_id=user.workspace_id, filename="b.jpg", data=images.jpeg(300, 200, seed=2))
    (job_id,) = assets.submit_processing(workspace_id=user.workspace_id, asset_ids=[doomed.id])
    get_queue("assets").empty()
    kill_job(job_id)  # its worker died on it, on the last attempt: trying again would likely end the same way
    done = reaper.reap_stuck(grace=NOW)
    assert (done["assets_queued"], done["assets_failed"]) == ([orphan.id], [doomed.id])
    assert "Could not make a thumbnail" in get(Asset, doomed.id).error
    work()
    assert get(Asset, orphan.id).status == "ready" and get(Asset, doomed.id).status == "failed"


def test_the_reaper_is_periodic_work_run_once_per_interval(user):
    assert [task.name for task in periodic.PERIODIC] == ["stuck-rows", "parked-uploads", "library-purge",
                                                         "billing-reconcile"]
    calls = []
    task = periodic.Periodic("probe", every=60, run=lambda: calls.append(1) or "ran")
    assert periodic.run_due((task,)) == {"probe": "ran"}
    assert periodic.run_due((task,)) == {}  # another worker's pass within the minute does nothing
    assert calls == [1]


def test_outputs_whose_thumbnails_could_not_be_queued_during_a_redis_outage_get_them_later(user, monkeypatch):
    from jobs.workflows import run_workflow
    from tests.integration.test_workflows import _redis_goes_down

    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 1),
                                  operation="rotate_flip",
                                  definition=workflow_runs.operation_recipe("rotate_flip", {"angle": 90}))
    get_queue("default").empty()
    with monkeypatch.context() as outage:
        _redis_goes_down(outage)
        run_workflow(run.job_id)  # the run itself needs only the database; queuing thumbnails fails
    from tests.conftest import clear_caches

    clear_caches()
    assert get(WorkflowRun, run.id).status == "succeeded"
    with session_scope() as session:
        (item,) = workflow_runs.items_of(session=session, run_id=run.id)
        (output,) = item.outputs
        refused = session.exec(select(Job).where(Job.kind == "assets.process")).all()
    # Parked, not stuck: "failed" saying the queue was away, and the periodic work queues it again.
    assert get(Asset, output).status == "failed" and get(Asset, output).error.startswith(assets.QUEUE_UNAVAILABLE)
    assert [j.status for j in refused] == ["failed"]
    assert reaper.reap_stuck(grace=NOW)["assets_queued"] == []  # not the stuck-row reaper's to judge
    assert len(assets.requeue_unqueued(stale_after=timedelta(days=1))) == 1
    work()
    assert get(Asset, output).status == "ready"


def test_a_run_being_retried_is_not_settled_before_it_points_at_its_new_job(user):
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 1), operation="adjust",
                                  definition=workflow_runs.operation_recipe("adjust", {}))
    old_job = run.job_id
    get_queue("default").empty()
    kill_job(old_job)
    # The moment inside a retry: rows back to queued and the new job queued, the run not yet pointing at it.
    with session_scope() as session:
        session.execute(update(WorkflowItem).where(col(WorkflowItem.run_id) == run.id).values(status="queued"))
    jobs.submit(kind="workflows.run", workspace_id=user.workspace_id, params={"run_id": run.id})
    assert reaper.reap_stuck(grace=NOW)["workflow_runs"] == []
    work()
    assert get(WorkflowRun, run.id).status == "succeeded"


def test_a_redis_outage_mid_run_does_not_fail_the_images(user, monkeypatch):
    from jobs.workflows import run_workflow
    from tests.conftest import clear_caches
    from tests.integration.test_workflows import _redis_goes_down

    monkeypatch.setenv("WORKFLOW_THREADS", "1")
    clear_caches()
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, 4),
                                  operation="rotate_flip",
                                  definition=workflow_runs.operation_recipe("rotate_flip", {"angle": 90}))
    get_queue("default").empty()
    with monkeypatch.context() as outage:
        _redis_goes_down(outage)
        run_workflow(run.job_id)  # between items, the cancel check meets a refused Redis connection: it goes on
    clear_caches()
    job = get(Job, run.job_id)
    with session_scope() as session:
        statuses = [i.status for i in workflow_runs.items_of(session=session, run_id=run.id)]
    assert job.status == "succeeded" and statuses == ["done"] * 4  # a blip is not a failure of the images
    assert get(WorkflowRun, run.id).status == "succeeded"
