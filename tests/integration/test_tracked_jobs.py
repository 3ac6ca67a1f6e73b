"""One tracked-job pattern (app.services.jobs.start_tracked and the kinds' settle functions), on real rows, a
real Redis and real RQ workers: the domain row and its Job row are created in one transaction, the job is
enqueued after that commit, and every ending (done, raised, canceled, reaped) writes both in one transaction,
so they never disagree. Rename batches and workflow runs, the products with the most endings."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app import queue
from app.db import session_scope
from app.models import Asset, Job, RenameBatch, RenameItem, WorkflowRun
from app.queue import get_queue
from app.services import jobs, reaper
from app.services.rename import service as rename
from app.services.workflows import runs as workflow_runs
from app.storage import get_storage
from jobs.runner import run_tracked
from tests.integration.test_accounts import register
from tests.integration.test_reaper import get, kill_job, sources, work


@pytest.fixture
def user(any_db):
    return register("ada@example.com")


def batch_of(user, count: int = 2) -> RenameBatch:
    return rename.create_batch(workspace_id=user.workspace_id, asset_ids=sources(user.id, count),
                               options=rename.RenameOptions(ocr=False))


def run_of(user, count: int = 2) -> WorkflowRun:
    return workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources(user.id, count),
                                   operation="adjust", definition=workflow_runs.operation_recipe("adjust", {}))


def statuses(table, row_id: int) -> tuple[str, str]:
    """(the Job row's status, the domain row's status), read together."""
    with session_scope() as session:
        row = session.get(table, row_id)
        return session.get(Job, row.job_id).status, row.status


def item_states(batch_id: int) -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(i.status, i.error) for i in rename.items_of(session=session, batch_id=batch_id)]


def run_items(run_id: int) -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(i.status, i.error) for i in workflow_runs.items_of(session=session, run_id=run_id)]


@pytest.fixture
def enqueued(monkeypatch):
    """What the database held at each enqueue (a worker may start the job that very moment): read, then the
    real enqueue."""
    seen: list[dict] = []
    real = queue.enqueue_job

    def spy(*, kind: str, job_id: str, rq_id: str) -> None:
        with session_scope() as session:
            job = session.get(Job, job_id)
            row = {"rename.analyze": RenameBatch, "workflows.run": WorkflowRun}[kind]
            key = {"rename.analyze": "batch_id", "workflows.run": "run_id"}[kind]
            target = session.get(row, job.params[key]) if job else None
            seen.append({"job": job_id, "job_status": job.status if job else None,
                         "points_at": target.job_id if target else None})
        real(kind=kind, job_id=job_id, rq_id=rq_id)

    monkeypatch.setattr(queue, "enqueue_job", spy)
    return seen


# --- starting: the rows exist and point at the job before any worker can see it --------------------------


def test_a_batch_and_its_job_are_committed_together_before_the_enqueue(user, enqueued):
    batch = batch_of(user)
    assert enqueued == [{"job": batch.job_id, "job_status": "queued", "points_at": batch.job_id}]
    work()
    assert statuses(RenameBatch, batch.id) == ("succeeded", "ready")


def test_regenerating_a_row_points_the_batch_at_the_new_job_before_it_is_enqueued(user, enqueued):
    batch = batch_of(user)
    work()
    with session_scope() as session:
        item_id = rename.items_of(session=session, batch_id=batch.id)[1].id
    job_id = rename.regenerate(workspace_id=user.workspace_id, batch_id=batch.id, item_id=item_id)
    # The grid follows batch.job_id: from the moment the new job can run, the batch names it, not the old one.
    assert enqueued[-1] == {"job": job_id, "job_status": "queued", "points_at": job_id}
    assert job_id != batch.job_id
    work()
    assert statuses(RenameBatch, batch.id) == ("succeeded", "ready")
    assert get(RenameBatch, batch.id).job_id == job_id


def test_a_regenerate_that_cannot_be_queued_puts_the_row_and_the_pointer_back(user, monkeypatch):
    import redis

    batch = batch_of(user)
    work()
    with session_scope() as session:
        item = rename.items_of(session=session, batch_id=batch.id)[0]
        item.edited = True
        session.add(item)
        item_id = item.id

    def down(**_):
        raise redis.exceptions.ConnectionError("Connection refused.")

    monkeypatch.setattr(queue, "enqueue_job", down)
    with pytest.raises(redis.exceptions.ConnectionError):
        rename.regenerate(workspace_id=user.workspace_id, batch_id=batch.id, item_id=item_id)
    with session_scope() as session:
        refused = session.exec(select(Job).where(Job.kind == "rename.analyze", Job.id != batch.job_id)).one()
        row = session.get(RenameItem, item_id)
        assert (row.status, row.edited) == ("done", True)
    assert refused.status == "failed" and "Could not enqueue" in refused.error
    assert get(RenameBatch, batch.id).job_id == batch.job_id  # still the job that did the work
    assert statuses(RenameBatch, batch.id) == ("succeeded", "ready")


def test_a_run_and_its_job_are_committed_together_before_the_enqueue(user, enqueued):
    run = run_of(user)
    assert enqueued == [{"job": run.job_id, "job_status": "queued", "points_at": run.job_id}]
    work()
    assert statuses(WorkflowRun, run.id) == ("succeeded", "succeeded")


# --- endings: the Job row and the domain row change together ----------------------------------------------


def test_a_rename_job_that_raises_midway_leaves_both_failed(user):
    batch = batch_of(user, count=2)
    with session_scope() as session:  # the second image's file is gone: describing it raises (not retried)
        second = rename.items_of(session=session, batch_id=batch.id)[1]
        get_storage().delete(session.get(Asset, second.asset_id).storage_key)
    work()
    assert statuses(RenameBatch, batch.id) == ("failed", "failed")
    assert "FileNotFoundError" in get(Job, batch.job_id).error


def test_a_canceled_rename_job_leaves_both_canceled(user):
    queued = batch_of(user)  # canceled before a worker took it: removed from the queue
    assert jobs.cancel(job_id=queued.job_id, workspace_id=user.workspace_id) == "removed"
    assert statuses(RenameBatch, queued.id) == ("canceled", "canceled")
    running = batch_of(user)  # canceled while it runs: it stops between images
    get_queue("default").empty()

    def body(ctx):
        assert jobs.cancel(job_id=running.job_id, workspace_id=user.workspace_id) == "stopping"
        assert statuses(RenameBatch, running.id) == ("running", "analyzing")
        ctx.progress(100, "one image described")
        return "never"

    run_tracked(running.job_id, body)
    assert statuses(RenameBatch, running.id) == ("canceled", "canceled")


def test_a_rename_job_whose_worker_died_is_settled_with_it(user):
    batch = batch_of(user, count=2)
    get_queue("default").empty()
    with session_scope() as session:  # the dead attempt had described the first image
        first = rename.items_of(session=session, batch_id=batch.id)[0]
        first.status = "done"
        session.add(first)
    kill_job(batch.job_id)  # the orphan reaper fails the job: the batch is settled in that same transaction
    assert statuses(RenameBatch, batch.id) == ("failed", "ready")  # one row was described: usable
    assert [s for s, _ in item_states(batch.id)] == ["done", "failed"]
    assert "lost" in item_states(batch.id)[1][1]
    assert reaper.reap_stuck(grace=timedelta(0))["rename_batches"] == []  # nothing left for the stuck-row pass


def test_a_workflow_job_that_raises_midway_leaves_both_failed(user):
    run = run_of(user)
    get_queue("default").empty()

    def body(ctx):
        ctx.progress(50, "half way")
        raise RuntimeError("the disk caught fire")

    run_tracked(run.job_id, body)
    assert statuses(WorkflowRun, run.id) == ("failed", "failed")
    assert run_items(run.id) == [("failed", "The run stopped")] * 2


def test_a_canceled_workflow_job_leaves_both_canceled(user):
    queued = run_of(user)
    assert workflow_runs.cancel_run(workspace_id=user.workspace_id, run_id=queued.id) == "removed"
    assert statuses(WorkflowRun, queued.id) == ("canceled", "canceled")
    assert run_items(queued.id) == [("canceled", "Canceled before it started")] * 2
    running = run_of(user)
    get_queue("default").empty()

    def body(ctx):
        assert workflow_runs.cancel_run(workspace_id=user.workspace_id, run_id=running.id) == "stopping"
        assert statuses(WorkflowRun, running.id) == ("running", "running")
        ctx.progress(100, "stopping")
        return "never"

    run_tracked(running.job_id, body)
    assert statuses(WorkflowRun, running.id) == ("canceled", "canceled")


def test_a_workflow_job_whose_worker_died_is_settled_with_it(user):
    run = run_of(user)
    get_queue("default").empty()
    kill_job(run.job_id)
    assert statuses(WorkflowRun, run.id) == ("failed", "failed")
    assert all(s == "failed" and "lost" in e for s, e in run_items(run.id))
    assert reaper.reap_stuck(grace=timedelta(0))["workflow_runs"] == []


def test_the_job_row_and_the_run_are_one_transaction(user, monkeypatch):
    """A settle that fails takes the Job row's ending back with it: neither changes alone."""
    run = run_of(user)
    get_queue("default").empty()
    jobs.start(run.job_id, rq_id=f"{run.job_id}-1", worker_name="inline")
    real = workflow_runs.settle_job

    def breaks_after_writing(session, job, **extra):
        real(session, job, **extra)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(workflow_runs, "settle_job", breaks_after_writing)
    with pytest.raises(RuntimeError):
        jobs.fail(run.job_id, "boom", rq_id=f"{run.job_id}-1")
    assert statuses(WorkflowRun, run.id) == ("running", "running")
    monkeypatch.setattr(workflow_runs, "settle_job", real)
    jobs.fail(run.job_id, "boom", rq_id=f"{run.job_id}-1")
    assert statuses(WorkflowRun, run.id) == ("failed", "failed")
